"""Constant, Identity, Dropout, Cast and CastLike.

ONNX Constant nodes become weights under their output tensor's name (the name a
TPU-MLIR weight gets). Identity and inference-mode Dropout become core Identity
nodes, which canonicalisation removes, so the ONNX tensor keeps a value of its own
name until then.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.errors import ModelLoadError
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.dtypes import ir_dtype
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


@converter("Constant", since=1)
def convert_constant_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Constant -> weight (value, value_float(s), value_int(s))."""
    data: np.ndarray | None = node.tensor("value")
    if data is None:
        if node.has("value_float"):
            data = np.asarray(node.float("value_float", 0.0), np.float32)
        elif node.has("value_floats"):
            data = np.asarray(node.floats("value_floats"), np.float32)
        elif node.has("value_int"):
            data = np.asarray(node.int("value_int", 0), np.int64)
        elif node.has("value_ints"):
            data = np.asarray(node.ints("value_ints"), np.int64)
    if data is None or data.dtype.kind in "OUS":
        raise ModelLoadError(
            f"Constant node '{node.name}': only numeric tensor constants are supported "
            f"(string and sparse constants are not)"
        )
    if data.dtype == np.uint64:
        data = data.astype(np.int64)
    return [Value.weight(ctx.unique(node.outputs[0]), np.asarray(data, order="C"))]


@converter("Identity", since=1)
def convert_identity_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Identity -> core Identity (removed by canonicalisation)."""
    return ctx.emit("Identity", [ctx.value(node, 0)], {}, node=node)


@converter("Dropout", since=7)
def convert_dropout_v7(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Dropout in inference: Identity, and an all-true mask when one is read."""
    training = ctx.const(node, 2, "training_mode") if node.input_given(2) else None
    if training is not None and bool(np.asarray(training).reshape(-1)[0]):
        raise ModelLoadError(
            f"Dropout node '{node.name}' is in training mode; export the model in eval mode"
        )
    x = ctx.value(node, 0)
    y = ctx.emit1("Identity", [x], {}, node=node)
    if not node.output_used(1) or node.opset < 12:
        # Before opset 12 runtimes disagree on the inference mask (onnxruntime
        # gives all-false at opset 10); reading it fails clearly instead.
        return [y]
    mask = Value.weight(ctx.unique(node.out_names[1]), np.ones(x.shape, dtype=np.bool_))
    return [y, mask]


@converter("Cast", since=6)
def convert_cast_v6(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Cast with ``to`` mapped to an IR dtype name (doubles narrow to f32)."""
    to = ir_dtype(node.int("to", 1), f"Cast node '{node.name}'")
    return ctx.emit("Cast", [ctx.value(node, 0)], {"to": to}, node=node)


@converter("CastLike", since=15)
def convert_castlike_v15(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """CastLike -> Cast to the second input's dtype."""
    target = ctx.value(node, 1)
    return ctx.emit("Cast", [ctx.value(node, 0)], {"to": target.dtype}, node=node)
