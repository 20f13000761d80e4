"""Reductions and index selection: Reduce*, ArgMax/ArgMin, TopK, CumSum.

Reduce ops took ``axes`` as an attribute up to opset 12 (ReduceSum) or 17 (the
rest) and as an optional input afterwards, with ``noop_with_empty_axes`` choosing
between "reduce everything" and "do nothing" when none are given. The core ops
always get explicit non-negative axes; the no-op case becomes Identity.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import int_list, norm_axes, norm_axis
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import ConverterFn, converter, register_converter

_REDUCE_OPS = (
    "ReduceMean",
    "ReduceSum",
    "ReduceMax",
    "ReduceMin",
    "ReduceProd",
    "ReduceL1",
    "ReduceL2",
    "ReduceSumSquare",
    "ReduceLogSumExp",
    "ReduceLogSum",
)


def _reduce(
    ctx: ConversionContext, node: OnnxNode, axes: Sequence[int] | None
) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    rank = len(x.shape)
    if not axes:
        if node.int("noop_with_empty_axes", 0):
            return ctx.emit("Identity", [x], {}, node=node)
        axes = tuple(range(rank))
    attrs = {
        "axes": tuple(sorted(set(norm_axes(node, axes, rank)))),
        "keepdims": node.int("keepdims", 1),
    }
    if node.op_type == "ReduceLogSum":
        # log(sum(x)): core has no ReduceLogSum.
        total = ctx.emit1("ReduceSum", [x], attrs, node=node, suffix="sum")
        return ctx.emit("Log", [total], {}, node=node)
    return ctx.emit(node.op_type, [x], attrs, node=node)


def _attr_form(op: str) -> ConverterFn:
    def convert(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
        return _reduce(ctx, node, node.ints("axes"))

    convert.__name__ = f"convert_{op.lower()}_v1"
    convert.__doc__ = f"{op} with an ``axes`` attribute (absent = all axes)."
    return convert


def _input_form(op: str, since: int) -> ConverterFn:
    def convert(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
        return _reduce(ctx, node, int_list(ctx.const(node, 1, "the axes")))

    convert.__name__ = f"convert_{op.lower()}_v{since}"
    convert.__doc__ = f"{op} with an optional constant ``axes`` input and noop_with_empty_axes."
    return convert


for _op in _REDUCE_OPS:
    register_converter(_op, 1, _attr_form(_op))
    _since = 13 if _op == "ReduceSum" else 18
    register_converter(_op, _since, _input_form(_op, _since))


def _arg(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    attrs = {
        "axis": norm_axis(node, node.int("axis", 0), len(x.shape)),
        "keepdims": node.int("keepdims", 1),
        "select_last_index": node.int("select_last_index", 0),
    }
    return ctx.emit(node.op_type, [x], attrs, node=node)


@converter("ArgMax", since=1)
def convert_argmax_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """ArgMax (select_last_index from opset 12); i64 result."""
    return _arg(ctx, node)


@converter("ArgMin", since=1)
def convert_argmin_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """ArgMin (select_last_index from opset 12); i64 result."""
    return _arg(ctx, node)


def _topk(ctx: ConversionContext, node: OnnxNode, k: int) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    attrs = {
        "k": k,
        "axis": norm_axis(node, node.int("axis", -1), len(x.shape)),
        "largest": node.int("largest", 1),
        "sorted": node.int("sorted", 1),
    }
    return ctx.emit("TopK", [x], attrs, node=node, n_outputs=2)


@converter("TopK", since=1)
def convert_topk_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """TopK, opsets 1-9: k attribute."""
    return _topk(ctx, node, node.int("k", 1))


@converter("TopK", since=10)
def convert_topk_v10(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """TopK, opset 10+: constant k input (largest/sorted from opset 11)."""
    k = int_list(ctx.const(node, 1, "k"))
    assert k is not None
    return _topk(ctx, node, k[0])


@converter("CumSum", since=11)
def convert_cumsum_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """CumSum with its constant axis input as an attribute."""
    x = ctx.value(node, 0)
    axis = int_list(ctx.const(node, 1, "the axis"))
    assert axis is not None
    attrs = {
        "axis": norm_axis(node, axis[0], len(x.shape)),
        "exclusive": node.int("exclusive", 0),
        "reverse": node.int("reverse", 0),
    }
    return ctx.emit("CumSum", [x], attrs, node=node)
