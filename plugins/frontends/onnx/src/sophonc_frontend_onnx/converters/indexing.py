"""Index-driven ops: Gather, GatherElements, GatherND, ScatterND, ScatterElements
(and the deprecated Scatter), NonZero and OneHot.

Axes become non-negative; negative indices are left to the core kernels, which
wrap them as ONNX does. OneHot's depth and values must be constants.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.errors import ModelLoadError
from sophonc.ir.types import dtype_name
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import norm_axis
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


@converter("Gather", since=1)
def convert_gather_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Gather along a non-negative axis."""
    data = ctx.value(node, 0)
    axis = norm_axis(node, node.int("axis", 0), len(data.shape))
    return ctx.emit("Gather", [data, ctx.value(node, 1)], {"axis": axis}, node=node)


@converter("GatherElements", since=11)
def convert_gatherelements_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """GatherElements along a non-negative axis."""
    data = ctx.value(node, 0)
    axis = norm_axis(node, node.int("axis", 0), len(data.shape))
    return ctx.emit("GatherElements", [data, ctx.value(node, 1)], {"axis": axis}, node=node)


@converter("GatherND", since=11)
def convert_gathernd_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """GatherND (batch_dims from opset 12)."""
    attrs = {"batch_dims": node.int("batch_dims", 0)}
    return ctx.emit("GatherND", [ctx.value(node, 0), ctx.value(node, 1)], attrs, node=node)


@converter("ScatterND", since=11)
def convert_scatternd_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """ScatterND (reduction from opset 16)."""
    inputs = [ctx.value(node, i) for i in range(3)]
    attrs = {"reduction": node.str("reduction", "none")}
    return ctx.emit("ScatterND", inputs, attrs, node=node)


@converter("Scatter", since=9)
@converter("ScatterElements", since=11)
def convert_scatterelements_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """ScatterElements (and Scatter, its deprecated opset-9 name), reduction from 16."""
    inputs = [ctx.value(node, i) for i in range(3)]
    attrs = {
        "axis": norm_axis(node, node.int("axis", 0), len(inputs[0].shape)),
        "reduction": node.str("reduction", "none"),
    }
    return ctx.emit("ScatterElements", inputs, attrs, node=node)


@converter("NonZero", since=9)
def convert_nonzero_v9(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """NonZero: its output size depends on data, so it must fold at import."""
    x = ctx.value(node, 0)
    if not x.is_const:
        raise ModelLoadError(
            f"NonZero node '{node.name}': its input '{node.inputs[0]}' is computed at run "
            f"time, so its output shape is not static; sophonc supports NonZero only on "
            f"constants"
        )
    return ctx.emit("NonZero", [x], {}, node=node)


@converter("OneHot", since=9)
def convert_onehot_v9(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """OneHot with constant depth and (off, on) values; the result has the values' type."""
    indices = ctx.value(node, 0)
    depth = ctx.const(node, 1, "the depth")
    values = ctx.const(node, 2, "the off/on values")
    assert depth is not None and values is not None
    flat = np.asarray(values).reshape(-1)
    rank = len(indices.shape) + 1
    axis = norm_axis(node, node.int("axis", -1), rank)
    attrs = {
        "depth": int(np.asarray(depth).reshape(-1)[0]),
        "values": (float(flat[0]), float(flat[1])),
        "axis": axis,
    }
    want = dtype_name(flat.dtype) if flat.dtype != np.float64 else "f32"
    if ctx.infer_types("OneHot", [indices], attrs)[0].dtype == want:
        return ctx.emit("OneHot", [indices], attrs, node=node)
    # Core OneHot has its own result type; ONNX's is the values' type.
    y = ctx.emit1("OneHot", [indices], attrs, node=node, suffix="onehot")
    return ctx.emit("Cast", [y], {"to": want}, node=node)
