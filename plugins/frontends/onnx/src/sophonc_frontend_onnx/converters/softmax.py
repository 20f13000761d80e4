"""Softmax and LogSoftmax.

Before opset 13 they coerce the input to 2-D, ``[prod(dims[:axis]),
prod(dims[axis:])]``, and normalise over the second dimension: over every dim from
``axis`` on at once. That equals a one-axis softmax when all dims after ``axis``
are 1 (the common ``axis = rank-1`` case); otherwise the frontend reshapes to 2-D,
normalises over axis 1 and reshapes back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import norm_axis
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


def _coerced(ctx: ConversionContext, node: OnnxNode, op: str) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    shape = x.shape
    rank = len(shape)
    axis = norm_axis(node, node.int("axis", 1), rank) if rank else 0
    if rank == 0 or math.prod(shape[axis + 1 :]) == 1:
        return ctx.emit(op, [x], {"axis": min(axis, max(rank - 1, 0))}, node=node)
    flat = (math.prod(shape[:axis]), math.prod(shape[axis:]))
    x2 = ctx.reshape(x, flat, node=node, suffix="2d")
    y2 = ctx.emit1(op, [x2], {"axis": 1}, node=node, suffix=op.lower())
    return [ctx.reshape(y2, shape, node=node, suffix=None)]


def _one_axis(ctx: ConversionContext, node: OnnxNode, op: str) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    axis = norm_axis(node, node.int("axis", -1), len(x.shape))
    return ctx.emit(op, [x], {"axis": axis}, node=node)


@converter("Softmax", since=1)
def convert_softmax_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Softmax, opsets 1-12: coerce-to-2-D semantics."""
    return _coerced(ctx, node, "Softmax")


@converter("Softmax", since=13)
def convert_softmax_v13(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Softmax, opset 13+: one axis, default -1."""
    return _one_axis(ctx, node, "Softmax")


@converter("LogSoftmax", since=1)
def convert_logsoftmax_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """LogSoftmax, opsets 1-12: coerce-to-2-D semantics."""
    return _coerced(ctx, node, "LogSoftmax")


@converter("LogSoftmax", since=13)
def convert_logsoftmax_v13(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """LogSoftmax, opset 13+: one axis, default -1."""
    return _one_axis(ctx, node, "LogSoftmax")
