"""Calibration time and memory, INT8 simulator speed and whole compile time.

On one model (PP-OCRv4 det by default; ``--model`` picks another of
``deploy_accuracy.py``'s), in one work folder, side by side in one run:

(a) calibration time per image: the wall time of ``sophon calibrate`` and of the
    official ``run_calibration``, each a subprocess on the same 10 scikit-image
    pictures (same folder, same ``--input_num``: the same selection) with ``kl``
    and the tune step (both tools' defaults), divided by 10; and ours with
    ``--tune_num 0``. CPU seconds and peak RSS (``os.wait4``) are printed too,
    since the machine may be shared.
(b) INT8 simulator time per inference: ``backend.simulate`` on the INT8 bmodel
    of (d), against onnxruntime's F32 time on the same input (one intra-op thread,
    and its default), with our F32 reference interpreter for reference; each the
    median of ``--runs`` after ``--warmup`` untimed runs, in this process.
(c) calibration peak memory against the number of images: ``sophon calibrate``
    (defaults, tune step included) in a subprocess on 10 and on 50 pictures of a
    folder of 50 distinct images made deterministically from the 26 scikit-image
    pictures (the originals, then flips, rotations and crops), its peak RSS from
    ``os.wait4``. ``--official-memory`` measures ``run_calibration`` the same way.
(d) whole compile time: transform (validated on the first test picture), the
    calibration of (a) and deploy INT8 (validated on the same input), each stage a
    subprocess, ours against the official's.

Stage timings are the median of ``--repeat`` runs (default 1: the official
calibration takes minutes); every row shows the 1-minute load average when it
started. Without ``SOPHON_TPU_MLIR_VENV`` the official columns read ``not run``.

Run: ``python benchmarks/calibration_and_simulator.py [--model det] [--runs N]
[--repeat N] [--keep DIR] [--official-memory]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from cv2.typing import MatLike
from deploy_accuracy import (
    CALIBRATION_PICTURES,
    CASES,
    CHIP,
    Case,
    Official,
    ToolError,
    ToolRun,
    checked,
    model_file,
    official_model_file,
    official_note,
    official_toolchain,
    picture_folder,
    print_table,
    sophon,
    stop_on_sigterm,
)
from interpreter_vs_onnxruntime import median_ms, session

from sophonc.interp import Interpreter
from sophonc.ir.text import load_module
from sophonc.npzfile import read_npz
from sophonc.plugins.registry import load_backend
from sophonc.testing.models import sample_images

#: Image counts of the memory measurement (c).
MEMORY_COUNTS = (10, 50)
#: Validation is run by both deploys but not enforced: the figures are timings.
DEPLOY_TOLERANCE = "0.3,-1"


@dataclass
class Stage:
    """The runs of one stage of one tool (``None`` when not run or failed)."""

    runs: list[ToolRun]
    failure: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.runs) and self.failure is None

    @property
    def wall(self) -> float:
        return statistics.median(r.wall_s for r in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(r.cpu_s for r in self.runs)

    @property
    def peak_mb(self) -> float:
        return max(r.peak_rss_mb for r in self.runs)

    @property
    def load(self) -> str:
        return "/".join(f"{r.load:.1f}" for r in self.runs)


NOT_RUN = Stage([])


def repeated(run: Callable[[], ToolRun], what: str, repeat: int) -> Stage:
    """``run`` ``repeat`` times; a failure is recorded, not raised."""
    runs: list[ToolRun] = []
    for _ in range(repeat):
        try:
            runs.append(checked(run(), what))
        except ToolError as exc:
            print(exc, file=sys.stderr)
            return Stage(runs, failure=str(exc).splitlines()[0])
        print(f"  {what}: {runs[-1].wall_s:.1f} s", file=sys.stderr)
    return Stage(runs)


# --------------------------------------------------------------------------- stages


@dataclass
class Stages:
    """Every timed stage of (a) and (d)."""

    transform: Stage
    calibrate: Stage
    calibrate_no_tune: Stage
    deploy: Stage
    official_transform: Stage
    official_calibrate: Stage
    official_deploy: Stage


def run_stages(
    case: Case, folder: Path, model: Path, pics: Path, official: Official | None, repeat: int
) -> Stages:
    """Ours and the official's stages, interleaved so both see similar load."""
    n, o = case.name, case.official_name
    log = folder / "commands.log"
    test = str(pics / case.pictures[0])
    count = str(CALIBRATION_PICTURES)
    source = official_model_file(model, folder) if official is not None else model
    transform = ["transform", "--model_name", n, "--model_def", str(model), *case.flags,
                 "--test_input", test, "--mlir", f"{n}.mlir"]  # fmt: skip
    o_transform = ["--model_name", o, "--model_def", str(source), *case.flags,
                   "--test_input", test, "--test_result", f"{o}_top_outputs.npz",
                   "--mlir", f"{o}.mlir"]  # fmt: skip
    calibrate = ["calibrate", f"{n}.mlir", "--dataset", str(pics), "--input_num", count,
                 "-o", f"{n}_cali_table"]  # fmt: skip
    no_tune = [*calibrate[:-1], f"{n}_cali_table_no_tune", "--tune_num", "0"]
    o_calibrate = [f"{o}.mlir", "--dataset", str(pics), "--input_num", count,
                   "-o", f"{o}_cali_table"]  # fmt: skip
    deploy = ["deploy", "--mlir", f"{n}.mlir", "--quantize", "INT8", "--calibration_table",
              f"{n}_cali_table", "--processor", CHIP, "--test_input", f"{n}_in_f32.npz",
              "--test_reference", f"{n}_top_outputs.npz", "--tolerance", DEPLOY_TOLERANCE,
              "--model", f"{n}_int8.bmodel"]  # fmt: skip
    o_deploy = ["--mlir", f"{o}.mlir", "--quantize", "INT8", "--calibration_table",
                f"{o}_cali_table", "--processor", CHIP, "--test_input", f"{o}_in_f32.npz",
                "--test_reference", f"{o}_top_outputs.npz", "--tolerance", DEPLOY_TOLERANCE,
                "--model", f"{o}_int8.bmodel"]  # fmt: skip

    def ours(args: list[str], what: str) -> Stage:
        stage = repeated(partial(sophon, args, folder, log), what, repeat)
        if not stage.ok:
            raise SystemExit(f"{what} failed: {stage.failure}")
        return stage

    def theirs(tool: str, args: list[str], after: Stage | None = None) -> Stage:
        if official is None or (after is not None and not after.ok):
            return NOT_RUN
        return repeated(partial(official.run, tool, args, folder, log), f"official {tool}", repeat)

    s_transform = ours(transform, "sophon transform")
    s_o_transform = theirs("model_transform", o_transform)
    s_calibrate = ours(calibrate, "sophon calibrate")
    s_o_calibrate = theirs("run_calibration", o_calibrate, s_o_transform)
    s_no_tune = ours(no_tune, "sophon calibrate --tune_num 0")
    s_deploy = ours(deploy, "sophon deploy INT8")
    s_o_deploy = theirs("model_deploy", o_deploy, s_o_calibrate)
    return Stages(s_transform, s_calibrate, s_no_tune, s_deploy, s_o_transform, s_o_calibrate,
                  s_o_deploy)  # fmt: skip


# --------------------------------------------------------------------------- (b) speed


def speed_rows(case: Case, folder: Path, model: Path, warmup: int, runs: int) -> list[list[str]]:
    """(b): ms per inference of the INT8 simulator, our interpreter and onnxruntime."""
    n = case.name
    bmodel = (folder / f"{n}_int8.bmodel").read_bytes()
    inputs = read_npz(folder / f"{n}_in_f32.npz")
    backend = load_backend(CHIP)
    interpreter = Interpreter(load_module(folder / f"{n}.mlir"))
    ort1, ortn = session(model, 1), session(model, 0)
    feeds = {i.name: a for i, a in zip(ortn.get_inputs(), inputs.values(), strict=True)}
    timed: list[tuple[str, float, float]] = []
    for label, fn in [
        ("sophonc INT8 simulator (backend.simulate)", lambda: backend.simulate(bmodel, inputs)),
        ("sophonc F32 interpreter", lambda: interpreter.run(inputs)),
        ("onnxruntime F32, 1 intra-op thread", lambda: ort1.run(None, feeds)),
        ("onnxruntime F32, default threads", lambda: ortn.run(None, feeds)),
    ]:
        load = os.getloadavg()[0]
        timed.append((label, median_ms(fn, warmup, runs), load))
    t_ort1, t_ortn = timed[2][1], timed[3][1]
    rows = [["engine", "ms", "/ort 1T", "/ort", "load"]]
    for label, ms, load in timed:
        rows.append([label, f"{ms:.1f}", f"{ms / t_ort1:.2f}", f"{ms / t_ortn:.2f}", f"{load:.1f}"])
    return rows


# --------------------------------------------------------------------------- (c) memory


def transformed(image: MatLike, variant: str) -> MatLike:
    """``image`` flipped, rotated or cropped (the centre 80 %)."""
    if variant == "hflip":
        return np.ascontiguousarray(image[:, ::-1])
    if variant == "vflip":
        return np.ascontiguousarray(image[::-1])
    if variant == "rot90":
        return np.ascontiguousarray(np.rot90(image))
    if variant == "crop":
        h, w = image.shape[:2]
        return np.ascontiguousarray(image[h // 10 : h - h // 10, w // 10 : w - w // 10])
    raise ValueError(variant)


def many_pictures(target: Path, count: int) -> Path:
    """``count`` distinct pictures in ``target``: the 26 originals, then their
    flips, rotations and crops, in a fixed order (deterministic)."""
    target.mkdir(parents=True, exist_ok=True)
    sources = sample_images()
    made = 0
    for variant in ("orig", "hflip", "vflip", "rot90", "crop"):
        for src in sources:
            if made == count:
                return target
            if variant == "orig":
                shutil.copyfile(src, target / f"{made:03d}_{src.name}")
            else:
                image = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
                if image is None:
                    raise SystemExit(f"cannot read {src}")
                path = target / f"{made:03d}_{src.stem}_{variant}.png"
                if not cv2.imwrite(str(path), transformed(image, variant)):
                    raise SystemExit(f"cannot write {path}")
            made += 1
    if made < count:
        raise SystemExit(f"only {made} variants of the scikit-image pictures; asked for {count}")
    return target


def memory_rows(
    case: Case, folder: Path, official: Official | None, with_official: bool
) -> list[list[str]]:
    """(c): peak RSS of calibrations on 10 and 50 images from one 50-image folder."""
    many = many_pictures(folder / "many_pictures", max(MEMORY_COUNTS))
    log = folder / "memory.log"

    def ours(k: int) -> ToolRun:
        args = ["calibrate", f"{case.name}.mlir", "--dataset", str(many), "--input_num", str(k),
                "-o", f"{case.name}_mem{k}_table"]  # fmt: skip
        return sophon(args, folder, log)

    def theirs(k: int) -> ToolRun:
        assert official is not None
        o = case.official_name
        args = [f"{o}.mlir", "--dataset", str(many), "--input_num", str(k),
                "-o", f"{o}_mem{k}_table"]  # fmt: skip
        return official.run("run_calibration", args, folder, log)

    tools: list[tuple[str, Callable[[int], ToolRun]]] = [("sophon calibrate", ours)]
    if with_official and official is not None and (folder / f"{case.official_name}.mlir").is_file():
        tools.append(("official run_calibration", theirs))
    rows = [["tool", "images", "wall s", "s/image", "peak RSS MB", "load"]]
    for label, run in tools:
        for k in MEMORY_COUNTS:
            stage = repeated(partial(run, k), f"{label} on {k} images", 1)
            if not stage.ok:
                rows.append([label, str(k), "failed", "", "", ""])
                continue
            wall = stage.wall
            rows.append([label, str(k), f"{wall:.1f}", f"{wall / k:.2f}", f"{stage.peak_mb:.0f}",
                         stage.load])  # fmt: skip
    return rows


# --------------------------------------------------------------------------- report


def seconds(stage: Stage) -> str:
    if stage.failure is not None:
        return "failed"
    return f"{stage.wall:.1f}" if stage.runs else "not run"


def ratio(theirs: Stage, mine: Stage) -> str:
    if not (theirs.ok and mine.ok):
        return "-"
    return f"{theirs.wall / mine.wall:.2f}"


def calibration_rows(s: Stages) -> list[list[str]]:
    """(a): calibration wall time per image, CPU time and peak RSS."""
    k = CALIBRATION_PICTURES
    rows = [["calibration", "wall s", "s/image", "CPU s", "peak RSS MB", "load"]]
    for label, st in [
        ("sophon calibrate (kl + tune)", s.calibrate),
        ("sophon calibrate --tune_num 0", s.calibrate_no_tune),
        ("official run_calibration (kl + tune)", s.official_calibrate),
    ]:
        if not st.ok:
            rows.append([label, seconds(st), "", "", "", ""])
            continue
        rows.append([label, f"{st.wall:.1f}", f"{st.wall / k:.2f}", f"{st.cpu:.1f}",
                     f"{st.peak_mb:.0f}", st.load])  # fmt: skip
    return rows


def compile_rows(s: Stages) -> list[list[str]]:
    """(d): each stage's wall (and CPU) time and the totals, ours and the official's."""
    header = ["stage", "ours s", "official s", "official/ours", "ours CPU s", "official CPU s",
              "load (ours, official)"]  # fmt: skip
    rows = [header]
    pairs = [
        ("transform", s.transform, s.official_transform),
        ("calibrate (10, kl + tune)", s.calibrate, s.official_calibrate),
        ("deploy INT8", s.deploy, s.official_deploy),
    ]
    for label, mine, theirs in pairs:
        rows.append([label, seconds(mine), seconds(theirs), ratio(theirs, mine),
                     f"{mine.cpu:.1f}", f"{theirs.cpu:.1f}" if theirs.ok else "-",
                     f"{mine.load}, {theirs.load or '-'}"])  # fmt: skip
    wall = sum(m.wall for _, m, _ in pairs)
    cpu = sum(m.cpu for _, m, _ in pairs)
    if all(t.ok for _, _, t in pairs):
        o_wall = sum(t.wall for _, _, t in pairs)
        o_cpu = sum(t.cpu for _, _, t in pairs)
        rows.append(["total", f"{wall:.1f}", f"{o_wall:.1f}", f"{o_wall / wall:.2f}",
                     f"{cpu:.1f}", f"{o_cpu:.1f}", ""])  # fmt: skip
    else:
        rows.append(["total", f"{wall:.1f}", "not run", "-", f"{cpu:.1f}", "-", ""])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="det", choices=sorted(CASES), help="model to measure")
    parser.add_argument("--runs", type=int, default=5, help="timed inferences in (b)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed inferences first in (b)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each stage (median)")
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep it")
    parser.add_argument("--no-official", action="store_true", help="skip the official columns")
    parser.add_argument(
        "--official-memory",
        action="store_true",
        help="(c) for the official run_calibration too (slow)",
    )
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0 or args.repeat < 1:
        parser.error("--runs and --repeat must be >= 1, --warmup >= 0")
    official = official_toolchain(args.no_official)
    stop_on_sigterm()
    case = CASES[args.model]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sophonc-calibration-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        folder = work / case.name
        folder.mkdir(parents=True, exist_ok=True)
        pics = picture_folder(work)
        model = model_file(case, folder)
        print(
            f"{case.name}: {case.title}, input {'x'.join(map(str, case.shape))}; "
            f"{os.cpu_count()} CPUs; load average at start "
            f"{'/'.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        print(official_note(official))
        stages = run_stages(case, folder, model, pics, official, args.repeat)
        speed = speed_rows(case, folder, model, args.warmup, args.runs)
        memory = memory_rows(case, folder, official, args.official_memory)
        print(
            f"\n(a) calibration on {CALIBRATION_PICTURES} scikit-image pictures, "
            f"median of {args.repeat} run(s), each a subprocess"
        )
        print_table(calibration_rows(stages))
        if stages.calibrate.ok and stages.official_calibrate.ok:
            print(
                f"official/ours per image (with tune): "
                f"{stages.official_calibrate.wall / stages.calibrate.wall:.2f}"
            )
        print(
            f"\n(b) time per inference on {case.pictures[0]}, median of {args.runs} after "
            f"{args.warmup} warm-up, in this process"
        )
        print_table(speed)
        print(
            f"\n(c) calibration peak memory (defaults: kl + tune) against "
            f"the number of images; {max(MEMORY_COUNTS)} distinct images made from the "
            f"26 scikit-image pictures"
        )
        print_table(memory, left=2)
        print(
            f"\n(d) whole compile (transform validated on {case.pictures[0]}, calibrate, "
            f"deploy INT8 validated), wall seconds per stage, each a subprocess"
        )
        print_table(compile_rows(stages))
        if args.keep:
            print(f"\nwork folder kept: {work}")
    minutes = (time.perf_counter() - start) / 60
    print(f"\nload = 1-minute load average when the row started; {minutes:.0f} min in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
