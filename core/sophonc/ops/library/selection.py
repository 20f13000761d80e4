"""Index selection along one axis: ArgMax, ArgMin and TopK (indices are i64).

Ties resolve as ONNX specifies: ArgMax/ArgMin take the first occurrence unless
``select_last_index``; TopK orders equal values by ascending index, which a stable
sort on the (negated, for ``largest``) values gives directly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import axis_attr, input_type, int_attr, shape_error, shape_of


def _infer_arg(node: Node) -> list[TensorType]:
    x = shape_of(input_type(node, 0))
    axis = axis_attr(node, len(x), 0)
    if int_attr(node, "keepdims", 1):
        return [TensorType("i64", (*x[:axis], 1, *x[axis + 1 :]))]
    return [TensorType("i64", x[:axis] + x[axis + 1 :])]


def _arg(node: Node, x: AnyArray, pick_max: bool) -> AnyArray:
    axis = axis_attr(node, x.ndim, 0)
    find = np.argmax if pick_max else np.argmin
    if int_attr(node, "select_last_index", 0):
        idx = x.shape[axis] - 1 - find(np.flip(x, axis), axis=axis, keepdims=True)
    else:
        idx = find(x, axis=axis, keepdims=True)
    idx = np.asarray(idx, dtype=np.int64)
    return idx if int_attr(node, "keepdims", 1) else np.squeeze(idx, axis)


@define_op("ArgMax", _infer_arg)
def argmax(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Index of the maximum along ``axis`` (first, or last with select_last_index)."""
    return [_arg(node, arg(inputs, 0), True)]


@define_op("ArgMin", _infer_arg)
def argmin(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Index of the minimum along ``axis`` (first, or last with select_last_index)."""
    return [_arg(node, arg(inputs, 0), False)]


def _topk_plan(node: Node, x: tuple[int, ...]) -> tuple[int, int]:
    axis = axis_attr(node, len(x), -1)
    k = int_attr(node, "k")
    if not 0 <= k <= x[axis]:
        raise shape_error(node, f"k = {k} is out of range for axis {axis} of length {x[axis]}")
    return k, axis


def _infer_topk(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    k, axis = _topk_plan(node, x)
    out = (*x[:axis], k, *x[axis + 1 :])
    return [t.with_shape(out), TensorType("i64", out)]


@define_op("TopK", _infer_topk)
def topk(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """The k largest (``largest`` 1) or smallest values along ``axis`` and their i64
    indices, sorted; equal values in ascending index order."""
    x = arg(inputs, 0)
    k, axis = _topk_plan(node, x.shape)
    key = x
    if int_attr(node, "largest", 1):
        signed = np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.signedinteger)
        key = np.negative(x) if signed else np.negative(x.astype(np.int64))
    order = np.argsort(key, axis=axis, kind="stable")
    idx = np.take(order, np.arange(k), axis=axis).astype(np.int64)
    return [np.take_along_axis(x, idx, axis=axis), idx]
