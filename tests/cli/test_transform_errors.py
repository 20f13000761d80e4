"""Every user error of ``model_transform``: one ``error:`` line, no traceback, no files.

These run the installed console script in a subprocess, as a user would, so the
error formatting of the real entry point is what is checked.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sophonc.npzfile import write_npz

pytestmark = pytest.mark.slow


def run_alias(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "model_transform"
    return subprocess.run(
        [str(script), *args], cwd=cwd, capture_output=True, text=True, check=False
    )


def base_args(model: Path | str, *extra: str) -> list[str]:
    return ["--model_name", "m", "--model_def", str(model), "--mlir", "m.mlir", *extra]


def assert_clean_failure(proc: subprocess.CompletedProcess[str], cwd: Path, *keep: str) -> str:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr + proc.stdout
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    left = sorted(p.name for p in cwd.iterdir() if p.name not in keep)
    assert left == [], f"files left behind: {left}"
    return errors[0]


def test_missing_model(work: Path) -> None:
    proc = run_alias(work, *base_args(work / "nope.onnx"))
    line = assert_clean_failure(proc, work)
    assert "not found" in line


def test_not_an_onnx_file(work: Path, tmp_path: Path) -> None:
    bad = tmp_path / "text.onnx"
    bad.write_text("this is not a model\n" * 20)
    line = assert_clean_failure(run_alias(work, *base_args(bad)), work)
    assert "text.onnx" in line


def test_truncated_onnx(work: Path, tiny_onnx: Path, tmp_path: Path) -> None:
    good = tiny_onnx
    cut = tmp_path / "cut.onnx"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    line = assert_clean_failure(run_alias(work, *base_args(cut)), work)
    assert "cut.onnx" in line


def test_wrong_rank_input_shapes(work: Path, tiny_onnx: Path) -> None:
    proc = run_alias(work, *base_args(tiny_onnx, "--input_shapes", "[[1,3,8]]"))
    line = assert_clean_failure(proc, work)
    assert "rank" in line


def test_unsupported_op(work: Path, tmp_path: Path, make_tiny: Callable[..., Path]) -> None:
    model = make_tiny(tmp_path / "custom.onnx", custom_op=True)
    line = assert_clean_failure(run_alias(work, *base_args(model)), work)
    assert "Frobnicate" in line


def test_test_input_of_wrong_shape(work: Path, tmp_path: Path, tiny_onnx: Path) -> None:
    model = tiny_onnx
    bad = tmp_path / "in.npz"
    write_npz(bad, {"x": np.zeros((1, 3, 4, 4), np.float32)})
    proc = run_alias(work, *base_args(model, "--test_input", str(bad)))
    line = assert_clean_failure(proc, work)
    assert "'x'" in line and "[1, 3, 4, 4]" in line and "[1, 3, 8, 8]" in line
