"""Shape ops: Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Shape, Size,
Expand, Tile, ConstantOfShape and Range.

Every shape-changing op becomes a core Reshape with a fully resolved shape (no 0,
no -1), and every operand core takes as an attribute is read as a constant. Shape
and Size fold at once because every shape is static after ``--input_shapes``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sophonc.errors import ModelLoadError
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import int_list, norm_axes
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


def resolve_reshape(
    node: OnnxNode, in_shape: Sequence[int], spec: Sequence[int], allowzero: bool
) -> tuple[int, ...]:
    """ONNX Reshape's target: 0 copies the input dim (unless allowzero), -1 is inferred."""
    out = [
        in_shape[i] if d == 0 and not allowzero and i < len(in_shape) else int(d)
        for i, d in enumerate(spec)
    ]
    total = math.prod(in_shape)
    if out.count(-1) > 1:
        raise ModelLoadError(f"Reshape node '{node.name}': more than one -1 in {list(spec)}")
    if -1 in out:
        known = math.prod(d for d in out if d != -1)
        if known == 0 or total % known:
            raise ModelLoadError(
                f"{node.op_type} node '{node.name}': cannot reshape {list(in_shape)} to "
                f"{list(spec)}; the model's shapes do not fit"
            )
        out[out.index(-1)] = total // known
    if math.prod(out) != total:
        raise ModelLoadError(
            f"{node.op_type} node '{node.name}': cannot reshape {list(in_shape)} to "
            f"{list(spec)}; the model's shapes do not fit"
        )
    return tuple(out)


@converter("Reshape", since=5)
def convert_reshape_v5(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Reshape with a constant shape input (allowzero from opset 14)."""
    x = ctx.value(node, 0)
    spec = int_list(ctx.const(node, 1, "the target shape"))
    assert spec is not None
    shape = resolve_reshape(node, x.shape, spec, bool(node.int("allowzero", 0)))
    return [ctx.reshape(x, shape, node=node, suffix=None)]


@converter("Flatten", since=1)
def convert_flatten_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Flatten -> Reshape to ``[prod(dims[:axis]), prod(dims[axis:])]``."""
    x = ctx.value(node, 0)
    rank = len(x.shape)
    axis = node.int("axis", 1)
    axis = axis + rank if axis < 0 else axis
    shape = (math.prod(x.shape[:axis]), math.prod(x.shape[axis:]))
    return [ctx.reshape(x, shape, node=node, suffix=None)]


def _squeeze(
    ctx: ConversionContext, node: OnnxNode, axes: Sequence[int] | None
) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    rank = len(x.shape)
    if axes is None:
        drop = {i for i, d in enumerate(x.shape) if d == 1}
    else:
        drop = set(norm_axes(node, axes, rank))
        bad = [a for a in drop if x.shape[a] != 1]
        if bad:
            raise ModelLoadError(
                f"Squeeze node '{node.name}': axis {bad[0]} of shape {list(x.shape)} is not "
                f"1; the model's shapes do not fit"
            )
    shape = tuple(d for i, d in enumerate(x.shape) if i not in drop)
    return [ctx.reshape(x, shape, node=node, suffix=None)]


@converter("Squeeze", since=1)
def convert_squeeze_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Squeeze, opsets 1-12: axes attribute (absent = every 1-sized dim)."""
    return _squeeze(ctx, node, node.ints("axes"))


@converter("Squeeze", since=13)
def convert_squeeze_v13(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Squeeze, opset 13+: optional constant axes input."""
    return _squeeze(ctx, node, int_list(ctx.const(node, 1, "the axes")))


def _unsqueeze(
    ctx: ConversionContext, node: OnnxNode, axes: Sequence[int] | None
) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    if not axes:
        raise ModelLoadError(f"Unsqueeze node '{node.name}' has no axes; the model is malformed")
    out_rank = len(x.shape) + len(axes)
    inserted = set(norm_axes(node, axes, out_rank))
    dims = iter(x.shape)
    shape = tuple(1 if i in inserted else next(dims) for i in range(out_rank))
    return [ctx.reshape(x, shape, node=node, suffix=None)]


@converter("Unsqueeze", since=1)
def convert_unsqueeze_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Unsqueeze, opsets 1-12: axes attribute."""
    return _unsqueeze(ctx, node, node.ints("axes"))


@converter("Unsqueeze", since=13)
def convert_unsqueeze_v13(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Unsqueeze, opset 13+: constant axes input."""
    return _unsqueeze(ctx, node, int_list(ctx.const(node, 1, "the axes")))


@converter("Transpose", since=1)
def convert_transpose_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Transpose; the default perm reverses the dims."""
    x = ctx.value(node, 0)
    rank = len(x.shape)
    perm = node.ints("perm", tuple(range(rank - 1, -1, -1)))
    assert perm is not None
    return ctx.emit("Transpose", [x], {"perm": norm_axes(node, perm, rank)}, node=node)


@converter("Shape", since=1)
def convert_shape_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Shape (start/end from opset 15) folds to an i64 constant: shapes are static."""
    x = ctx.value(node, 0)
    rank = len(x.shape)
    start = node.int("start", 0)
    end = node.int("end", rank)
    start = min(max(start + rank if start < 0 else start, 0), rank)
    end = min(max(end + rank if end < 0 else end, 0), rank)
    data = np.asarray(x.shape[start:end], dtype=np.int64)
    return [Value.weight(ctx.unique(node.out_names[0]), data)]


@converter("Size", since=1)
def convert_size_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Size folds to an i64 scalar."""
    x = ctx.value(node, 0)
    return [Value.weight(ctx.unique(node.out_names[0]), np.asarray(math.prod(x.shape), np.int64))]


@converter("Expand", since=8)
def convert_expand_v8(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Expand with a constant target shape (bidirectional broadcast)."""
    shape = int_list(ctx.const(node, 1, "the target shape"))
    return ctx.emit("Expand", [ctx.value(node, 0)], {"shape": shape}, node=node)


@converter("Tile", since=6)
def convert_tile_v6(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Tile with constant repeats."""
    repeats = int_list(ctx.const(node, 1, "the repeats"))
    return ctx.emit("Tile", [ctx.value(node, 0)], {"repeats": repeats}, node=node)


@converter("ConstantOfShape", since=9)
def convert_constantofshape_v9(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """ConstantOfShape folds to a constant of the value tensor's type (default f32 0).

    Built with numpy directly rather than through the core op's float ``value``
    attribute, so 64-bit integer fills (exporters use INT64_MAX sentinels) stay exact.
    """
    shape = int_list(ctx.const(node, 0, "the shape"))
    assert shape is not None
    value = node.tensor("value")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(-1)
    if fill.dtype == np.float64:
        fill = fill.astype(np.float32)
    data = np.full(shape, fill[0], dtype=fill.dtype)
    return [Value.weight(ctx.unique(node.out_names[0]), data)]


@converter("Range", since=11)
def convert_range_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Range: start, limit and delta must be constant (the length fixes a shape)."""
    for i, what in enumerate(("the start", "the limit", "the delta")):
        ctx.const(node, i, what)
    inputs = [ctx.value(node, i) for i in range(3)]
    return ctx.emit("Range", inputs, {}, node=node)
