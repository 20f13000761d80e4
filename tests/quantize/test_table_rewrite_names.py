"""A table we write carries TPU-MLIR's rewrite names (``<slice>_r_new`` …) for its
graph; deploying with that same table must not call them foreign."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from onnx import helper

from onnx_graphs import save_single_input_model
from sophonc.api import FrontendOptions
from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.deploy import DeployRequest, quantize_module
from sophonc.passes import canonicalize
from sophonc.plugins.registry import load_backend
from sophonc_frontend_onnx.frontend import OnnxFrontend

SEED = 5


def slice_then_reshape(path: Path) -> Path:
    """x → Conv → Slice (one channel) → Reshape (drop it) → Mul by itself."""
    rng = np.random.default_rng(SEED)
    inits = {
        "w": rng.normal(0, 0.5, (4, 3, 1, 1)).astype(np.float32),
        "starts": np.array([1], np.int64), "ends": np.array([2], np.int64),
        "axes": np.array([1], np.int64), "shape": np.array([1, 5, 5], np.int64),
    }  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Slice", ["c", "starts", "ends", "axes"], ["s"]),
        helper.make_node("Reshape", ["s", "shape"], ["r"]),
        helper.make_node("Mul", ["r", "r"], ["y"]),
    ]
    return save_single_input_model(path, nodes, inits, [1, 3, 5, 5])


def test_our_table_deploys_without_foreign_names(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = slice_then_reshape(tmp_path / "m.onnx")
    module = canonicalize(OnnxFrontend().load(path, FrontendOptions()))
    rng = np.random.default_rng(SEED + 1)
    samples = [{"x": rng.normal(size=(1, 3, 5, 5)).astype(np.float32)} for _ in range(3)]
    table, _ = run_calibration(module, samples, len(samples), CalibrationSettings("max", 2048, 0))
    rewritten = [name for name in table if "_r_new" in name]
    assert rewritten, sorted(table)
    with caplog.at_level(logging.WARNING):
        quantize_module(module, load_backend("bm1684x"), DeployRequest("INT8", table=table))
    assert not [r for r in caplog.records if "not in the model" in r.getMessage()]
