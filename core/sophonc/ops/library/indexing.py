"""Index-driven ops: Gather, GatherElements, GatherND, ScatterND, ScatterElements,
OneHot and NonZero.

Negative indices count from the end of their axis, as ONNX says (numpy's fancy
indexing does the same, so only OneHot wraps by hand). Scatter reductions go
through ``ufunc.at``, which applies repeated indices one after another instead of
keeping only the last write.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    axis_attr,
    choice_attr,
    floats_attr,
    fmt,
    input_type,
    int_attr,
    same_dtype,
    shape_error,
    shape_of,
)

_INDEX_DTYPES = ("i64", "i32", "i16", "i8", "u8", "u16", "u32")


def _index_type(node: Node, i: int) -> Shape:
    t = input_type(node, i)
    if t.dtype not in _INDEX_DTYPES:
        raise shape_error(node, f"indices (input {i}) must be integers, not {t.dtype}")
    return shape_of(t)


def _fits_off_axis(i: Shape, d: Shape, axis: int) -> bool:
    """Indices of data's rank that stay within data on every axis but ``axis``."""
    return len(i) == len(d) and all(
        a <= b for j, (a, b) in enumerate(zip(i, d, strict=False)) if j != axis
    )


def _infer_gather(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    d, i = shape_of(t), _index_type(node, 1)
    axis = axis_attr(node, len(d), 0)
    return [t.with_shape(d[:axis] + i + d[axis + 1 :])]


@define_op("Gather", _infer_gather)
def gather(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """data indexed along ``axis`` by every element of indices (negatives wrap)."""
    data, idx = arg(inputs, 0), arg(inputs, 1)
    return [np.take(data, idx.astype(np.int64, copy=False), axis=axis_attr(node, data.ndim, 0))]


def _infer_gather_elements(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    d, i = shape_of(t), _index_type(node, 1)
    axis = axis_attr(node, len(d), 0)
    if not _fits_off_axis(i, d, axis):
        raise shape_error(node, f"indices {fmt(i)} do not fit data {fmt(d)} off axis {axis}")
    return [t.with_shape(i)]


@define_op("GatherElements", _infer_gather_elements)
def gather_elements(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """out[p] = data[p with its ``axis`` coordinate replaced by indices[p]]."""
    data, idx = arg(inputs, 0), arg(inputs, 1).astype(np.int64)
    axis = axis_attr(node, data.ndim, 0)
    idx = np.where(idx < 0, idx + data.shape[axis], idx)
    window = tuple(slice(None) if j == axis else slice(0, n) for j, n in enumerate(idx.shape))
    return [np.take_along_axis(data[window], idx, axis=axis)]


def _gather_nd_shape(node: Node, d: Shape, i: Shape) -> Shape:
    b = int_attr(node, "batch_dims", 0)
    if not i or b < 0 or b >= min(len(d), len(i)) or d[:b] != i[:b]:
        raise shape_error(node, f"indices {fmt(i)} with batch_dims {b} do not fit data {fmt(d)}")
    k = i[-1]
    if k > len(d) - b:
        raise shape_error(node, f"index tuples of length {k} exceed data {fmt(d)}")
    return i[:-1] + d[b + k :]


def _infer_gather_nd(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    return [t.with_shape(_gather_nd_shape(node, shape_of(t), _index_type(node, 1)))]


@define_op("GatherND", _infer_gather_nd)
def gather_nd(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Slices of data addressed by the index tuples in the last axis of indices, the
    first ``batch_dims`` axes of both walked together."""
    data, idx = arg(inputs, 0), arg(inputs, 1).astype(np.int64)
    out = _gather_nd_shape(node, data.shape, idx.shape)
    b = int_attr(node, "batch_dims", 0)
    batch = int(np.prod(data.shape[:b], dtype=np.int64))
    k = idx.shape[-1]
    flat_data = data.reshape((batch, *data.shape[b:]))
    flat_idx = idx.reshape(batch, -1, k)
    rows = np.arange(batch)[:, None]
    picked = flat_data[(rows, *(flat_idx[..., j] for j in range(k)))]
    return [np.ascontiguousarray(picked).reshape(out)]


_REDUCTIONS: dict[str, Callable[..., Any] | None] = {
    "none": None,
    "add": np.add.at,
    "mul": np.multiply.at,
    "max": np.maximum.at,
    "min": np.minimum.at,
}


def _scatter(out: AnyArray, where: tuple[AnyArray, ...], updates: AnyArray, how: str) -> None:
    at = _REDUCTIONS[how]
    if at is None:
        out[where] = updates
    else:
        at(out, where, updates)


def _infer_scatter_nd(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    d, i, u = shape_of(t), _index_type(node, 1), shape_of(input_type(node, 2))
    same_dtype(node, [t, input_type(node, 2)])
    choice_attr(node, "reduction", "none", tuple(_REDUCTIONS))
    if not i or i[-1] > len(d) or u != i[:-1] + d[i[-1] :]:
        raise shape_error(node, f"updates {fmt(u)} and indices {fmt(i)} do not fit data {fmt(d)}")
    return [t]


@define_op("ScatterND", _infer_scatter_nd)
def scatter_nd(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """A copy of data with the slices addressed by indices' tuples replaced by (or
    combined with, per ``reduction``) updates."""
    data, idx, upd = arg(inputs, 0), arg(inputs, 1).astype(np.int64), arg(inputs, 2)
    how = choice_attr(node, "reduction", "none", tuple(_REDUCTIONS))
    k = idx.shape[-1]
    tuples = idx.reshape(-1, k)
    flat_upd = upd.reshape((tuples.shape[0], *data.shape[k:]))
    out = np.array(data, copy=True)
    _scatter(out, tuple(tuples[:, j] for j in range(k)), flat_upd, how)
    return [out]


def _infer_scatter_elements(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    d, i, u = shape_of(t), _index_type(node, 1), shape_of(input_type(node, 2))
    same_dtype(node, [t, input_type(node, 2)])
    choice_attr(node, "reduction", "none", tuple(_REDUCTIONS))
    axis = axis_attr(node, len(d), 0)
    if i != u or not _fits_off_axis(i, d, axis):
        raise shape_error(node, f"indices {fmt(i)} and updates {fmt(u)} do not fit data {fmt(d)}")
    return [t]


@define_op("ScatterElements", _infer_scatter_elements)
def scatter_elements(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """A copy of data where, for every position p of indices, data[p with its ``axis``
    coordinate set to indices[p]] takes (or combines with) updates[p]."""
    data, idx, upd = arg(inputs, 0), arg(inputs, 1).astype(np.int64), arg(inputs, 2)
    axis = axis_attr(node, data.ndim, 0)
    how = choice_attr(node, "reduction", "none", tuple(_REDUCTIONS))
    coords: list[AnyArray] = list(np.indices(idx.shape, sparse=True))
    coords[axis] = np.where(idx < 0, idx + data.shape[axis], idx)
    out = np.array(data, copy=True)
    _scatter(out, tuple(np.broadcast_arrays(*coords)), upd, how)
    return [out]


def _onehot_plan(node: Node, i: Shape) -> tuple[int, int, tuple[float, ...]]:
    depth = int_attr(node, "depth")
    axis = axis_attr(node, len(i) + 1, -1)
    values = floats_attr(node, "values") or (0.0, 1.0)
    if depth < 1 or len(values) != 2:
        raise shape_error(node, f"needs a positive depth and two values, got {depth}, {values}")
    return depth, axis, values


def _infer_onehot(node: Node) -> list[TensorType]:
    i = shape_of(input_type(node, 0))
    depth, axis, _ = _onehot_plan(node, i)
    return [TensorType("f32", (*i[:axis], depth, *i[axis:]))]


@define_op("OneHot", _infer_onehot)
def onehot(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """f32 tensor with a new ``axis`` of length depth: values[1] where the position
    equals the index (negatives count from depth), values[0] elsewhere."""
    idx = arg(inputs, 0).astype(np.int64)
    depth, axis, (off, on) = _onehot_plan(node, idx.shape)
    idx = np.where(idx < 0, idx + depth, idx)
    shape = [1] * (idx.ndim + 1)
    shape[axis] = depth
    hot = np.arange(depth).reshape(shape) == np.expand_dims(idx, axis)
    return [np.where(hot, np.float32(on), np.float32(off))]


def _infer_nonzero(node: Node) -> list[TensorType]:
    v = node.opt_input(0)
    x = shape_of(input_type(node, 0))
    if v is None or v.const is None:
        raise shape_error(
            node, "the output size depends on the data; only constant inputs are supported"
        )
    return [TensorType("i64", (max(len(x), 1), int(np.count_nonzero(v.const))))]


@define_op("NonZero", _infer_nonzero)
def nonzero(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """The coordinates of the non-zero elements, shape (rank, count), row-major order
    (a scalar counts as one element of a 1-D tensor)."""
    x = np.atleast_1d(arg(inputs, 0))
    return [np.array(np.nonzero(x), dtype=np.int64).reshape(x.ndim, -1)]
