"""Real models through calibrate → deploy on BM1684X, with TPU-MLIR's defaults.

Calibration uses 10 scikit-image pictures (TPU-MLIR's selection order, KL with
the tune step). Each deploy validates inside the command; the tests then read
the npz files it wrote and check the model outputs' cosine against the F32
top-level model at least reaches what TPU-MLIR 1.30.2 reaches on the same model
and data (figures in the issue and in benchmarks/deploy_accuracy.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sophonc.cli.calibrate import calibrate
from sophonc.cli.deploy import deploy_command
from sophonc.cli.transform import transform
from sophonc.compare import cosine_similarity

pytestmark = pytest.mark.slow

#: Output cosine floors: TPU-MLIR 1.30.2 on the same model (INT8 det 0.78 and rec
#: 0.975 from the issue; BF16 det 0.9923 measured on page.png beside this run).
FLOORS = {"F32": 0.99999, "F16": 0.999, "BF16": 0.9923, "INT8": 0.78}


def prepare(
    folder: Path,
    model: Path,
    name: str,
    flags: list[str],
    picture: Path,
    pictures: Path,
) -> Path:
    """Transform and calibrate ``model`` in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    args = ["--model_name", name, "--model_def", str(model), *flags, "--test_input",
            str(picture), "--mlir", str(folder / f"{name}.mlir")]  # fmt: skip
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        r = CliRunner().invoke(transform, args, catch_exceptions=False)
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(
            calibrate,
            [f"{name}.mlir", "--dataset", str(pictures), "--input_num", "10", "-o", "table"],
            catch_exceptions=False,
        )
        assert r.exit_code == 0, r.output
    return folder


def deploy_cosine(folder: Path, name: str, mode: str) -> dict[str, np.ndarray]:
    """Deploy in ``mode``; the program's and the simulator's outputs, and the top's."""
    args = ["--mlir", f"{name}.mlir", "--quantize", mode, "--processor", "bm1684x",
            "--test_input", f"{name}_in_f32.npz", "--test_reference", f"{name}_top_outputs.npz",
            "--tolerance", "0.3,-1", "--model", f"{name}_{mode}.bmodel"]  # fmt: skip
    if mode == "INT8":
        args += ["--calibration_table", "table"]
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        r = CliRunner().invoke(deploy_command, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    prefix = f"{name}_bm1684x_{mode.lower()}" + ("_sym" if mode == "INT8" else "")
    return {
        "tpu": dict(np.load(folder / f"{prefix}_tpu_outputs.npz")),
        "model": dict(np.load(folder / f"{prefix}_model_outputs.npz")),
        "top": dict(np.load(folder / f"{name}_top_outputs.npz")),
    }


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return cosine_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64))


@pytest.fixture(scope="module")
def det(
    rapidocr: Callable[[str], Path],
    picture: Callable[[str], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    flags = ["--input_shapes", "[[1,3,480,480]]", "--mean", "123.675,116.28,103.53",
             "--scale", "0.01712,0.0175,0.01743", "--pixel_format", "rgb"]  # fmt: skip
    page = picture("page.png")
    return prepare(tmp_path_factory.mktemp("det"), rapidocr("det"), "det", flags, page, page.parent)


@pytest.mark.parametrize("mode", ["F32", "F16", "BF16", "INT8"])
def test_ppocr_det_reaches_tpu_mlirs_accuracy(det: Path, mode: str) -> None:
    out = deploy_cosine(det, "det", mode)
    key = "sigmoid_0.tmp_0_Sigmoid"
    assert cosine(out["tpu"][key], out["top"][key]) >= FLOORS[mode]
    np.testing.assert_array_equal(out["model"][key], out["tpu"][key])


def test_ppocr_rec_int8_reaches_tpu_mlirs_accuracy(
    rapidocr: Callable[[str], Path], picture: Callable[[str], Path], tmp_path: Path
) -> None:
    flags = ["--input_shapes", "[[1,3,48,320]]", "--mean", "127.5,127.5,127.5",
             "--scale", "0.0078431,0.0078431,0.0078431", "--pixel_format", "rgb"]  # fmt: skip
    text = picture("text.png")
    folder = prepare(tmp_path / "rec", rapidocr("rec"), "rec", flags, text, text.parent)
    out = deploy_cosine(folder, "rec", "INT8")
    key = "softmax_11.tmp_0_Softmax"
    assert cosine(out["tpu"][key], out["top"][key]) >= 0.975


def test_yolo_scores_survive_int8_beside_pixel_coordinates(
    yolo_onnx: Path, picture: Callable[[str], Path], tmp_path: Path
) -> None:
    """The detector's one output joins boxes (pixels) and scores ([0, 1]): a single
    int8 scale would round every score to 0, as TPU-MLIR's default does."""
    flags = [
        "--input_shapes",
        "[[1,3,640,640]]",
        "--mean",
        "0,0,0",
        "--scale",
        "0.0039216,0.0039216,0.0039216",
        "--keep_aspect_ratio",
        "--pixel_format",
        "rgb",
    ]
    astronaut = picture("astronaut.png")
    folder = prepare(tmp_path / "yolo", yolo_onnx, "yolo", flags, astronaut, astronaut.parent)
    out = deploy_cosine(folder, "yolo", "INT8")
    got, want = out["tpu"]["output0_Concat"], out["top"]["output0_Concat"]
    assert cosine(got, want) >= 0.99
    assert cosine(got[..., 4:], want[..., 4:]) >= 0.99  # objectness and class scores
    np.testing.assert_array_equal(out["model"]["output0_Concat"], got)
