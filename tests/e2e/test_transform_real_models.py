"""``sophon transform --test_input`` on real models and on a YOLO-style model.

Each run validates every shared tensor inside the command; the tests then read
the npz files the command wrote and check the model outputs' cosine themselves.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from click.testing import CliRunner

from sophonc.cli.transform import transform
from sophonc.compare import cosine_similarity

pytestmark = pytest.mark.slow

OUTPUT_COSINE = 0.99999

RAPIDOCR_CASES = {
    "det": ([1, 3, 480, 480], "123.675,116.28,103.53", "0.01712,0.0175,0.01743", "page.png"),
    "rec": ([1, 3, 48, 320], "127.5,127.5,127.5", "0.0078431,0.0078431,0.0078431", "text.png"),
    "cls": ([1, 3, 48, 192], "127.5,127.5,127.5", "0.0078431,0.0078431,0.0078431", "text.png"),
}


def output_keys(model: Path) -> list[str]:
    """TPU-MLIR names of the ONNX model's outputs (``<tensor>_<OpType>``)."""
    proto = onnx.load(str(model), load_external_data=False)
    op_of = {o: n.op_type for n in proto.graph.node for o in n.output}
    return [f"{o.name}_{op_of[o.name]}" for o in proto.graph.output]


def assert_outputs_match(folder: Path, name: str, model: Path, result: Path) -> None:
    ref = np.load(folder / f"{name}_ref_outputs.npz")
    top = np.load(result)
    inputs = np.load(folder / f"{name}_in_f32.npz")
    assert len(inputs.files) == 1
    for key in output_keys(model):
        assert key in ref.files and key in top.files, key
        a = np.asarray(top[key], np.float64)
        b = np.asarray(ref[key], np.float64)
        assert a.shape == b.shape
        cos = cosine_similarity(a, b)
        assert cos >= OUTPUT_COSINE, f"{key}: cosine {cos}"


@pytest.mark.parametrize("kind", sorted(RAPIDOCR_CASES))
def test_rapidocr_transform_matches_onnxruntime(
    kind: str,
    rapidocr: Callable[[str], Path],
    picture: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shape, mean, scale, pic = RAPIDOCR_CASES[kind]
    model = rapidocr(kind)
    image = picture(pic)
    monkeypatch.chdir(tmp_path)
    name = f"ppocr_{kind}"
    args = [
        "--model_name", name,
        "--model_def", str(model),
        "--input_shapes", str([shape]).replace(" ", ""),
        "--mean", mean,
        "--scale", scale,
        "--pixel_format", "rgb",
        "--test_input", str(image),
        "--test_result", f"{name}_top_outputs.npz",
        "--mlir", f"{name}.mlir",
    ]  # fmt: skip
    result = CliRunner().invoke(transform, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output
    assert (tmp_path / f"{name}.mlir").is_file()
    assert (tmp_path / f"{name}_top_f32_all_weight.npz").is_file()
    assert_outputs_match(tmp_path, name, model, tmp_path / f"{name}_top_outputs.npz")


def test_yolo_style_with_the_seed_guides_flags(
    yolo_onnx: Path, picture: Callable[[str], Path], tmp_path: Path
) -> None:
    image = picture("astronaut.png")
    script = Path(sys.executable).parent / "model_transform"
    cmd = [
        str(script),
        "--model_name", "yolov5s",
        "--model_def", str(yolo_onnx),
        "--input_shapes", "[[1,3,640,640]]",
        "--mean", "0.0,0.0,0.0",
        "--scale", "0.0039216,0.0039216,0.0039216",
        "--keep_aspect_ratio",
        "--pixel_format", "rgb",
        "--test_input", str(image),
        "--test_result", "yolov5s_top_outputs.npz",
        "--mlir", "yolov5s.mlir",
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert_outputs_match(tmp_path, "yolov5s", yolo_onnx, tmp_path / "yolov5s_top_outputs.npz")
    # letterbox with the default pad 0: astronaut is square, so no border; the
    # input must be the picture's bytes times the scale, in RGB order.
    x = np.load(tmp_path / "yolov5s_in_f32.npz")["images"]
    assert x.shape == (1, 3, 640, 640)
    assert float(x.min()) >= 0.0
    assert float(x.max()) == pytest.approx(255 * 0.0039216, rel=1e-6)


def test_a_real_model_saved_as_ir_10_opset_17(
    rapidocr: Callable[[str], Path],
    picture: Callable[[str], Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PP-OCR's classifier upgraded to opset 17 and IR version 10, as current exporters write."""
    from onnx import version_converter

    upgraded = version_converter.convert_version(onnx.load(str(rapidocr("cls"))), 17)
    upgraded.ir_version = 10
    model = tmp_path / "cls17.onnx"
    onnx.save(upgraded, str(model))
    assert onnx.load(str(model)).opset_import[0].version == 17
    monkeypatch.chdir(tmp_path)
    args = [
        "--model_name", "cls17", "--model_def", str(model), "--input_shapes", "[[1,3,48,192]]",
        "--mean", "127.5,127.5,127.5", "--scale", "0.0078431,0.0078431,0.0078431",
        "--pixel_format", "rgb", "--test_input", str(picture("text.png")),
        "--test_result", "cls17_top_outputs.npz", "--mlir", "cls17.mlir",
    ]  # fmt: skip
    result = CliRunner().invoke(transform, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert_outputs_match(tmp_path, "cls17", model, tmp_path / "cls17_top_outputs.npz")
