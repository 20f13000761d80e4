"""``sophon transform`` on a tiny model through click's test runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from sophonc.cli.transform import transform
from sophonc.errors import ShapeError
from sophonc.npzfile import write_npz
from sophonc.preprocess import PreprocessConfig, load_image


def invoke(*args: str) -> object:
    return CliRunner().invoke(transform, list(args))


def test_transform_without_test_input_writes_ir_and_weights(tiny_onnx: Path, work: Path) -> None:
    result = CliRunner().invoke(
        transform, ["--model_name", "Tiny", "--model_def", str(tiny_onnx), "--mlir", "t.mlir"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in work.iterdir()) == ["t.mlir", "tiny_top_f32_all_weight.npz"]


def test_npz_test_input_validates_and_writes_dumps(tiny_onnx: Path, work: Path) -> None:
    x = np.random.default_rng(11).normal(size=(1, 3, 8, 8)).astype(np.float32)
    write_npz(work / "input.npz", {"anything": x})
    result = CliRunner().invoke(
        transform,
        ["--model_name", "tiny", "--model_def", str(tiny_onnx), "--mlir", "t.mlir",
         "--test_input", "input.npz"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "PASSED" in result.output
    names = {p.name for p in work.iterdir()}
    assert {"tiny_in_f32.npz", "tiny_ref_outputs.npz", "tiny_top_outputs.npz"} <= names
    np.testing.assert_array_equal(np.load(work / "tiny_in_f32.npz")["x"], x)


def test_picture_test_input_uses_stored_preprocessing(tiny_onnx: Path, work: Path) -> None:
    img = np.random.default_rng(12).integers(0, 256, (10, 12, 3), dtype=np.uint8)
    cv2.imwrite(str(work / "pic.png"), img)
    result = CliRunner().invoke(
        transform,
        ["--model_name", "tiny", "--model_def", str(tiny_onnx), "--mlir", "t.mlir",
         "--mean", "1,2,3", "--scale", "0.5,0.5,0.5", "--pixel_format", "rgb",
         "--keep_aspect_ratio", "--test_input", "pic.png", "--test_result", "top.npz"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    cfg = PreprocessConfig(
        mean=(1, 2, 3), scale=(0.5, 0.5, 0.5), pixel_format="rgb", keep_aspect_ratio=True
    )
    expected = load_image(work / "pic.png", cfg, [1, 3, 8, 8])
    np.testing.assert_array_equal(np.load(work / "tiny_in_f32.npz")["x"], expected)
    assert (work / "top.npz").is_file()


def test_bad_test_input_leaves_no_files(tiny_onnx: Path, work: Path) -> None:
    write_npz(work.parent / "in.npz", {"x": np.zeros((1, 3, 4, 4), np.float32)})
    result = CliRunner().invoke(
        transform,
        ["--model_name", "tiny", "--model_def", str(tiny_onnx), "--mlir", "t.mlir",
         "--test_input", str(work.parent / "in.npz")],
    )  # fmt: skip
    assert result.exit_code == 1
    assert isinstance(result.exception, ShapeError)
    assert list(work.iterdir()) == []


def test_dynamic_model_needs_input_shapes(
    make_tiny: Callable[..., Path], tmp_path: Path, work: Path
) -> None:
    model = make_tiny(tmp_path / "dyn.onnx", dynamic=True)
    args = ["--model_name", "d", "--model_def", str(model), "--mlir", "d.mlir"]
    result = CliRunner().invoke(transform, args)
    assert result.exit_code == 1
    assert "--input_shapes" in str(result.exception)
    ok = CliRunner().invoke(transform, [*args, "--input_shapes", "[1,3,16,16]"])
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    "flag", [("--input_shapes", "[[1,3"), ("--mean", "a,b"), ("--tolerance", "1")]
)
def test_malformed_flags_are_sophon_errors(
    tiny_onnx: Path, work: Path, flag: tuple[str, str]
) -> None:
    args = ["--model_name", "t", "--model_def", str(tiny_onnx), "--mlir", "t.mlir", *flag]
    result = CliRunner().invoke(transform, args)
    assert result.exit_code == 1
    assert flag[0] in str(result.exception)
    assert list(work.iterdir()) == []
