"""A table made from a fused graph still has rows for the tensors the fusions
removed (under the names the framework and TPU-MLIR use), with the statistics
onnxruntime gives for those tensors on the unfused model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import helper

from onnx_graphs import save_single_input_model
from sophonc.api import FrontendOptions
from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.ir.shadows import alias_names, shadows
from sophonc.passes import canonicalize
from sophonc_frontend_onnx.frontend import OnnxFrontend
from sophonc_frontend_onnx.reference import run_reference

SEED = 77


def affine_after_conv_bn(path: Path) -> Path:
    rng = np.random.default_rng(SEED)
    inits = {
        "w": rng.normal(0, 0.4, (4, 3, 3, 3)),
        "g": rng.uniform(0.5, 1.5, 4),
        "b": rng.normal(0, 0.2, 4),
        "m": rng.normal(0, 0.2, 4),
        "v": rng.uniform(0.5, 1.5, 4),
        "s": rng.uniform(0.5, 2.0, (1, 4, 1, 1)),
        "t": np.array(0.75),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["bn"]),
        helper.make_node("Mul", ["bn", "s"], ["scaled"]),
        helper.make_node("Add", ["scaled", "t"], ["y"]),
    ]
    return save_single_input_model(path, nodes, inits, [1, 3, 6, 6])


def test_removed_tensors_get_their_own_rows(tmp_path: Path) -> None:
    path = affine_after_conv_bn(tmp_path / "m.onnx")
    module = canonicalize(OnnxFrontend().load(path, FrontendOptions()))
    (conv,) = module.graph.nodes
    y = conv.outputs[0]
    assert y.name == "y_Add"
    assert {s.name for s in shadows(y)} == {"scaled_Mul", "bn_BatchNormalization", "c_Conv"}
    assert alias_names(y) == []  # none holds exactly y's values

    rng = np.random.default_rng(SEED + 1)
    samples = [{"x": rng.normal(size=(1, 3, 6, 6)).astype(np.float32)} for _ in range(4)]
    table, _ = run_calibration(
        module, samples, len(samples), CalibrationSettings("max", tune_num=0)
    )

    ref_max: dict[str, float] = {}
    for feeds in samples:
        dump = run_reference(path, FrontendOptions(), feeds, all_tensors=True)
        for key in ("y_Add", "scaled_Mul", "bn_BatchNormalization"):
            ref_max[key] = max(ref_max.get(key, 0.0), float(np.abs(dump[key]).max()))
    for key, want in ref_max.items():
        assert abs(table[key].threshold - want) <= 1e-5 * want, key
    # TPU-MLIR names the Conv with the BatchNorm folded in after the Conv.
    assert (
        abs(table["c_Conv"].threshold - ref_max["bn_BatchNormalization"])
        <= 1e-5 * ref_max["bn_BatchNormalization"]
    )


def conv_then_channel_bias(path: Path) -> Path:
    """A bias-free Conv, then an Add of one constant per channel (Paddle's export of a
    Conv bias, as in the PP-OCR direction classifier)."""
    rng = np.random.default_rng(SEED + 2)
    inits = {"w": rng.normal(0, 0.4, (4, 3, 1, 1)), "b": rng.normal(0, 2.0, (1, 4, 1, 1))}
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Add", ["c", "b"], ["y"]),
    ]
    return save_single_input_model(path, nodes, inits, [1, 3, 6, 6])


def test_a_channel_bias_add_is_the_conv_tensor_under_tpu_mlir_names(tmp_path: Path) -> None:
    """TPU-MLIR takes that Add as the Conv's bias and keeps the Conv's name for the sum
    (its table for the classifier has ``conv2d_56.tmp_0_Conv`` with the Add's range and
    no ``conv2d_56.tmp_1_Add``): the Conv's name is an alias of the fused result."""
    path = conv_then_channel_bias(tmp_path / "m.onnx")
    module = canonicalize(OnnxFrontend().load(path, FrontendOptions()))
    (conv,) = module.graph.nodes
    y = conv.outputs[0]
    assert y.name == "y_Add" and alias_names(y) == ["c_Conv"]
    rng = np.random.default_rng(SEED + 3)
    samples = [{"x": rng.normal(size=(1, 3, 6, 6)).astype(np.float32)} for _ in range(3)]
    settings = CalibrationSettings("max", tune_num=0)
    table, _ = run_calibration(module, samples, len(samples), settings)
    want = max(
        float(np.abs(run_reference(path, FrontendOptions(), s, all_tensors=True)["y_Add"]).max())
        for s in samples
    )
    assert abs(table["c_Conv"].threshold - want) <= 1e-5 * want
    assert table["c_Conv"] == table["y_Add"]
