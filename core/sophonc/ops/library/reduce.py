"""Reductions over a set of axes (ReduceMean, ReduceSum, ReduceMax, ReduceMin,
ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSumExp) and CumSum.

``axes`` is explicit and non-negative; an empty list means every axis (frontends
turn ONNX's ``noop_with_empty_axes`` into Identity). Sums accumulate in the input's
dtype with numpy's pairwise summation, so f32 results stay close to onnxruntime's
without going through float64. ReduceLogSumExp subtracts the maximum first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import axes_attr, axis_attr, input_type, int_attr, shape_of

Axes = tuple[int, ...]


def _infer_reduce(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    axes = axes_attr(node, len(x))
    if int_attr(node, "keepdims", 1):
        return [t.with_shape(tuple(1 if i in axes else d for i, d in enumerate(x)))]
    return [t.with_shape(tuple(d for i, d in enumerate(x) if i not in axes))]


def _sum(x: AnyArray, axes: Axes) -> AnyArray:
    return np.asarray(np.sum(x, axis=axes, keepdims=True, dtype=x.dtype))


def _mean(x: AnyArray, axes: Axes) -> AnyArray:
    if np.issubdtype(x.dtype, np.integer):
        return np.asarray(np.mean(x, axis=axes, keepdims=True))
    return np.asarray(np.mean(x, axis=axes, keepdims=True, dtype=x.dtype))


def _log_sum_exp(x: AnyArray, axes: Axes) -> AnyArray:
    top = np.max(x, axis=axes, keepdims=True)
    top = np.where(np.isfinite(top), top, 0).astype(x.dtype)
    total = np.sum(np.exp(x - top), axis=axes, keepdims=True, dtype=x.dtype)
    return np.asarray(np.log(total) + top)


_REDUCERS: dict[str, tuple[Callable[[AnyArray, Axes], AnyArray], str]] = {
    "ReduceMean": (_mean, "Mean over ``axes``."),
    "ReduceSum": (_sum, "Sum over ``axes``."),
    "ReduceMax": (lambda x, a: np.max(x, axis=a, keepdims=True), "Maximum over ``axes``."),
    "ReduceMin": (lambda x, a: np.min(x, axis=a, keepdims=True), "Minimum over ``axes``."),
    "ReduceProd": (
        lambda x, a: np.asarray(np.prod(x, axis=a, keepdims=True, dtype=x.dtype)),
        "Product over ``axes``.",
    ),
    "ReduceL1": (lambda x, a: _sum(np.abs(x), a), "Sum of |x| over ``axes``."),
    "ReduceL2": (lambda x, a: np.sqrt(_sum(np.square(x), a)), "sqrt(sum of x^2) over ``axes``."),
    "ReduceSumSquare": (lambda x, a: _sum(np.square(x), a), "Sum of x^2 over ``axes``."),
    "ReduceLogSumExp": (_log_sum_exp, "log(sum(exp(x))) over ``axes``, computed stably."),
}


def _reducer(name: str, fn: Callable[[AnyArray, Axes], AnyArray], doc: str) -> None:
    def kernel(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
        x = arg(inputs, 0)
        axes = axes_attr(node, x.ndim)
        y = np.asarray(fn(x, axes)).astype(x.dtype, copy=False)
        if not int_attr(node, "keepdims", 1):
            y = y.reshape(tuple(d for i, d in enumerate(y.shape) if i not in axes))
        return [y]

    kernel.__doc__ = doc + " Reduced axes are kept as size 1 with ``keepdims`` (default 1)."
    kernel.__name__ = name.lower()
    define_op(name, _infer_reduce)(kernel)


for _name, (_fn, _doc) in _REDUCERS.items():
    _reducer(_name, _fn, _doc)


def _infer_cumsum(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    axis_attr(node, len(shape_of(t)))
    return [t]


@define_op("CumSum", _infer_cumsum)
def cumsum(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Running sum along ``axis``; ``exclusive`` leaves out the element itself,
    ``reverse`` runs from the end."""
    x = arg(inputs, 0)
    axis = axis_attr(node, x.ndim)
    src = np.flip(x, axis) if int_attr(node, "reverse", 0) else x
    y = np.cumsum(src, axis=axis, dtype=x.dtype)
    if int_attr(node, "exclusive", 0):
        shifted = np.zeros_like(y)
        keep = [slice(None)] * x.ndim
        drop = [slice(None)] * x.ndim
        keep[axis] = slice(1, None)
        drop[axis] = slice(None, -1)
        shifted[tuple(keep)] = y[tuple(drop)]
        y = shifted
    return [np.ascontiguousarray(np.flip(y, axis)) if int_attr(node, "reverse", 0) else y]
