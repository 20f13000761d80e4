"""``make demo``: a real model compiled for BM1684X in INT8 and run in the simulator.

Fetches PP-OCRv4's text detector (from the rapidocr-onnxruntime wheel) and the
scikit-image pictures (from its wheel), then runs the real command line in
``.demo/`` with the flags of TPU-MLIR's guide:

1. ``sophon transform`` — import, validated tensor by tensor against onnxruntime;
2. ``sophon calibrate`` — KL thresholds with the tune step on 10 pictures;
3. ``sophon deploy --quantize INT8`` — quantize, lower, write the bmodel, compare
   the lowered program with F32 and the simulated bmodel with the program;
4. ``sophon run`` — the bmodel on a picture in the simulator, and the output
   compared with the F32 model's with ``sophon compare``;
5. ``sophon evaluate`` — the model compiled in F32, F16, BF16, INT8 symmetric,
   INT8 asymmetric and mixed precision, one table of accuracy against onnxruntime,
   bmodel size and simulator time (a few minutes: the mixed search runs the model
   many times).

ONNX is reached through the command line and the frontend registry only.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from sophonc.errors import SophonError
from sophonc.testing.models import rapidocr_model, sample_images

DEMO_DIR = Path(".demo")
PICTURE = "page.png"
NAME = "ppocr_det"
SHAPE = "[[1,3,480,480]]"
MEAN = "123.675,116.28,103.53"
SCALE = "0.01712,0.0175,0.01743"


def sophon_command() -> list[str]:
    """How to start ``sophon`` with this interpreter (the venv script, else -c)."""
    script = Path(sys.executable).parent / "sophon"
    if script.is_file():
        return [str(script)]
    found = shutil.which("sophon")
    if found:
        return [found]
    return [sys.executable, "-c", "from sophonc.cli.main import main; main()"]


def transform_args(model: Path, picture: Path) -> list[str]:
    """The ``sophon transform`` flags for PP-OCRv4 det (its published preprocessing)."""
    return [
        "transform", "--model_name", NAME, "--model_def", str(model),
        "--input_shapes", SHAPE, "--mean", MEAN, "--scale", SCALE, "--pixel_format", "rgb",
        "--test_input", str(picture), "--test_result", f"{NAME}_top_outputs.npz",
        "--mlir", f"{NAME}.mlir",
    ]  # fmt: skip


def stages(model: Path, picture: Path, pictures: Path) -> list[tuple[str, list[str]]]:
    """Every command the demo runs, with a title."""
    bmodel = f"{NAME}_int8.bmodel"
    return [
        ("transform the model", transform_args(model, picture)),
        (
            "calibrate on 10 pictures",
            ["calibrate", f"{NAME}.mlir", "--dataset", str(pictures), "--input_num", "10",
             "-o", f"{NAME}_cali_table"],
        ),
        (
            "deploy in INT8 for BM1684X",
            ["deploy", "--mlir", f"{NAME}.mlir", "--quantize", "INT8", "--processor", "bm1684x",
             "--calibration_table", f"{NAME}_cali_table", "--test_input", f"{NAME}_in_f32.npz",
             "--test_reference", f"{NAME}_top_outputs.npz", "--tolerance", "0.70,0.30",
             "--model", bmodel],
        ),
        (
            "run the bmodel in the simulator on the picture",
            ["run", "--model", bmodel, "--input", str(picture), "--output", f"{NAME}_sim.npz"],
        ),
        (
            "compare the simulated INT8 output with the F32 model's",
            ["compare", f"{NAME}_sim.npz", f"{NAME}_top_outputs.npz", "--tolerance", "0.70,0.30",
             "-v"],
        ),
        (
            "compile in every precision and compare each with onnxruntime",
            ["evaluate", str(model), "--processor", "bm1684x", "--model_name", NAME,
             "--input_shapes", SHAPE, "--mean", MEAN, "--scale", SCALE, "--pixel_format", "rgb",
             "--test_input", str(picture), "--dataset", str(pictures), "--input_num", "10"],
        ),
    ]  # fmt: skip


def run_stages(commands: Sequence[tuple[str, list[str]]]) -> int:
    """Run each command in ``.demo/``; stop at the first failure."""
    base = sophon_command()
    for i, (title, args) in enumerate(commands, start=1):
        click.echo(f"\n=== {i}/{len(commands)} {title}: sophon {' '.join(args)}")
        proc = subprocess.run([*base, *args], cwd=DEMO_DIR, check=False)
        if proc.returncode != 0:
            click.echo(f"step {i} failed with exit status {proc.returncode}", err=True)
            return proc.returncode
    return 0


def main() -> int:
    """Fetch, then transform → calibrate → deploy → run → compare → evaluate."""
    click.echo("fetching PP-OCRv4 det (rapidocr-onnxruntime==1.4.4) and scikit-image pictures")
    try:
        model = rapidocr_model("det").resolve()
        images = sample_images()
    except SophonError as exc:
        click.echo(f"error: {exc}", err=True)
        return 1
    DEMO_DIR.mkdir(exist_ok=True)
    pictures = images[0].parent.resolve()
    picture = next(p for p in images if p.name == PICTURE).resolve()
    status = run_stages(stages(model, picture, pictures))
    if status == 0:
        click.echo(f"\ndone: every file of the run is in {DEMO_DIR.resolve()}")
    return status


if __name__ == "__main__":
    sys.exit(main())
