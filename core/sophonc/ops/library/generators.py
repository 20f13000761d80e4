"""Ops whose result is fixed by shapes or constants: Shape, Size, ConstantOfShape, Range.

Shapes are static in the IR, so these fold at import; they exist as ops so that a
frontend can emit them uniformly and folding runs through the same kernels. Range's
output length depends on its inputs' values, so its shape rule needs them constant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import DTYPES, TensorType, numpy_dtype
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    choice_attr,
    float_attr,
    input_type,
    int_attr,
    ints_attr,
    same_dtype,
    shape_error,
    shape_of,
)


def _shape_bounds(node: Node, rank: int) -> tuple[int, int]:
    """Shape's start/end, clamped into [0, rank] as ONNX does (negatives count back)."""

    def clamp(v: int) -> int:
        return min(max(v + rank if v < 0 else v, 0), rank)

    return clamp(int_attr(node, "start", 0)), clamp(int_attr(node, "end", rank))


def _infer_shape(node: Node) -> list[TensorType]:
    rank = len(shape_of(input_type(node, 0)))
    start, end = _shape_bounds(node, rank)
    return [TensorType("i64", (max(end - start, 0),))]


@define_op("Shape", _infer_shape)
def shape(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x's dimensions start..end as a 1-D i64 tensor."""
    x = arg(inputs, 0)
    start, end = _shape_bounds(node, x.ndim)
    return [np.array(x.shape[start:end], dtype=np.int64)]


def _infer_size(node: Node) -> list[TensorType]:
    input_type(node, 0)
    return [TensorType("i64", ())]


@define_op("Size", _infer_size)
def size(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """The number of elements of x as an i64 scalar."""
    return [np.array(arg(inputs, 0).size, dtype=np.int64)]


def _infer_constant_of_shape(node: Node) -> list[TensorType]:
    dims = ints_attr(node, "shape")
    if any(d < 0 for d in dims):
        raise shape_error(node, f"shape {list(dims)} has a negative dimension")
    return [TensorType(choice_attr(node, "dtype", "f32", tuple(DTYPES)), dims)]


@define_op("ConstantOfShape", _infer_constant_of_shape)
def constant_of_shape(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """A tensor of ``shape`` and ``dtype`` (f32 by default) filled with ``value``."""
    dtype = numpy_dtype(choice_attr(node, "dtype", "f32", tuple(DTYPES)))
    return [np.full(ints_attr(node, "shape"), float_attr(node, "value", 0.0), dtype=dtype)]


def _range_length(node: Node, start: AnyArray, limit: AnyArray, delta: AnyArray) -> int:
    """max(ceil((limit - start) / delta), 0), in the inputs' own arithmetic."""
    if np.issubdtype(start.dtype, np.integer):
        lo, hi, step = int(start), int(limit), int(delta)
        if step == 0:
            raise shape_error(node, "delta must not be 0")
        return max(-((lo - hi) // step), 0)
    span = np.asarray((limit - start) / delta, dtype=start.dtype)
    if not np.isfinite(span):
        raise shape_error(node, f"start {start}, limit {limit}, delta {delta} give no length")
    return max(math.ceil(float(span)), 0)


def _scalars(node: Node, values: Sequence[AnyArray | None]) -> tuple[AnyArray, ...]:
    if any(v is None or v.size != 1 for v in values):
        raise shape_error(node, "start, limit and delta must be constant scalars")
    return tuple(np.asarray(v).reshape(()) for v in values if v is not None)


def _infer_range(node: Node) -> list[TensorType]:
    types = [input_type(node, i) for i in range(3)]
    dtype = same_dtype(node, types)
    values = [None if v is None else v.const for v in node.inputs[:3]]
    start, limit, delta = _scalars(node, values)
    return [TensorType(dtype, (_range_length(node, start, limit, delta),))]


@define_op("Range", _infer_range)
def range_(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """start, start + delta, … while before limit (ONNX's length formula)."""
    start, limit, delta = _scalars(node, [arg(inputs, i) for i in range(3)])
    n = _range_length(node, start, limit, delta)
    return [(start + np.arange(n, dtype=start.dtype) * delta).astype(start.dtype)]
