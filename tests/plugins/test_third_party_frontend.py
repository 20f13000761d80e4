"""A third party's frontend, added without touching this repository, transforms a model."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from sophonc.npzfile import write_npz

pytestmark = pytest.mark.slow

Runner = Callable[..., subprocess.CompletedProcess[str]]


def test_listed_by_sophon_plugins(toy_site: Path, tmp_path: Path, run_sophon: Runner) -> None:
    proc = run_sophon(toy_site, tmp_path, "plugins")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    frontends = lines[lines.index("frontends:") + 1 : lines.index("quantizers:")]
    assert any(line.split()[:3] == ["toy", "toyfront", "0.1"] for line in frontends)
    hooks = lines[lines.index("hooks:") + 1 : lines.index("commands:")]
    assert any(line.split()[:2] == ["toy", "toyfront"] for line in hooks)


def test_transform_with_validation_through_its_runtime(
    toy_site: Path, tmp_path: Path, run_sophon: Runner
) -> None:
    (tmp_path / "net.toy").write_text("TOY neg relu abs\n")
    x = np.random.default_rng(3).normal(size=(1, 6)).astype(np.float32)
    write_npz(tmp_path / "in.npz", {"x": x})
    proc = run_sophon(
        toy_site, tmp_path, "transform", "--model_name", "net", "--model_def", "net.toy",
        "--input_shapes", "[[1,6]]", "--test_input", "in.npz", "--mlir", "net.mlir",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "net.mlir").is_file()
    top = np.load(tmp_path / "net_top_outputs.npz")
    np.testing.assert_array_equal(top["t2_Abs"], np.abs(np.maximum(-x, 0)))


def test_the_detect_hook_claims_a_file_whatever_its_suffix(
    toy_site: Path, tmp_path: Path, run_sophon: Runner
) -> None:
    (tmp_path / "net.bin").write_text("TOY relu\n")
    proc = run_sophon(
        toy_site, tmp_path, "transform", "--model_name", "n", "--model_def", "net.bin",
        "--mlir", "n.mlir",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "with the toy frontend" in proc.stderr


def test_without_the_distribution_the_suffix_is_unknown(tmp_path: Path, run_sophon: Runner) -> None:
    (tmp_path / "net.toy").write_text("TOY relu\n")
    proc = run_sophon(
        tmp_path / "empty",
        tmp_path,
        "transform",
        "--model_name",
        "n",
        "--model_def",
        "net.toy",
        "--mlir",
        "n.mlir",
    )
    assert proc.returncode == 1
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith("error: no installed frontend reads 'net.toy'")
    assert "onnx (.onnx)" in line
    assert not (tmp_path / "n.mlir").exists()
