"""``sophon run`` on an ONNX model and on a transformed IR file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from click.testing import CliRunner

from sophonc.cli.run import run
from sophonc.cli.transform import transform
from sophonc.npzfile import write_npz


def test_run_onnx_and_ir_agree(tiny_onnx: Path, work: Path) -> None:
    x = np.random.default_rng(5).normal(size=(1, 3, 8, 8)).astype(np.float32)
    write_npz(work / "in.npz", {"x": x})
    r1 = CliRunner().invoke(
        run, ["--input", "in.npz", "--model", str(tiny_onnx), "--output", "o1.npz"]
    )
    assert r1.exit_code == 0, r1.output
    t = CliRunner().invoke(
        transform, ["--model_name", "tiny", "--model_def", str(tiny_onnx), "--mlir", "t.mlir"]
    )
    assert t.exit_code == 0, t.output
    r2 = CliRunner().invoke(
        run, ["--input", "in.npz", "--model", "t.mlir", "--output", "o2.npz", "--dump_all_tensors"]
    )
    assert r2.exit_code == 0, r2.output
    o1, o2 = np.load(work / "o1.npz"), np.load(work / "o2.npz")
    assert o1.files == ["y_MaxPool"]
    assert "y_MaxPool" in o2.files and "x" in o2.files and len(o2.files) > 2
    np.testing.assert_allclose(o2["y_MaxPool"], o1["y_MaxPool"], rtol=1e-5, atol=1e-5)


def test_run_ir_on_a_picture(tiny_onnx: Path, work: Path) -> None:
    cv2.imwrite(str(work / "p.png"), np.full((8, 8, 3), 200, np.uint8))
    t = CliRunner().invoke(
        transform,
        ["--model_name", "tiny", "--model_def", str(tiny_onnx), "--mlir", "t.mlir",
         "--scale", "0.01,0.01,0.01"],
    )  # fmt: skip
    assert t.exit_code == 0, t.output
    r = CliRunner().invoke(run, ["--input", "p.png", "--model", "t.mlir", "--output", "o.npz"])
    assert r.exit_code == 0, r.output
    assert np.load(work / "o.npz")["y_MaxPool"].shape == (1, 4, 4, 4)


def test_pictures_need_an_ir_file(tiny_onnx: Path, work: Path) -> None:
    cv2.imwrite(str(work / "p.png"), np.zeros((8, 8, 3), np.uint8))
    r = CliRunner().invoke(
        run, ["--input", "p.png", "--model", str(tiny_onnx), "--output", "o.npz"]
    )
    assert r.exit_code == 1
    assert "sophon transform" in str(r.exception)
    assert not (work / "o.npz").exists()
