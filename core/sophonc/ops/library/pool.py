"""Pooling: MaxPool, AveragePool, LpPool, GlobalAveragePool, GlobalMaxPool.

Windowed pools pad explicitly (with -inf for MaxPool, so padding never wins; with
zeros for the sums), add whatever end padding ``ceil_mode`` needs, and reduce the
windows axis by axis over ``sliding_window_view`` views (see
:func:`sophonc.ops.spatial.reduce_windows`). AveragePool's divisor is separable too:
per axis, the number of taps landing on counted positions (the input, plus the
explicit pads with ``count_include_pad``, never the ceil-mode overhang).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op, fused_relu
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    fmt,
    input_type,
    int_attr,
    shape_error,
    shape_of,
)
from sophonc.ops.spatial import Window, output_spatial, pad_spatial, read_window, reduce_windows


def _geometry(node: Node, x: Shape) -> tuple[Window, tuple[int, ...]]:
    if len(x) < 3:
        raise shape_error(node, f"input {fmt(x)} needs a batch, a channel and spatial axes")
    window = read_window(node, len(x) - 2)
    ceil_mode = bool(int_attr(node, "ceil_mode", 0))
    return window, output_spatial(node, window, x[2:], ceil_mode)


def _infer_pool(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    _, out = _geometry(node, x)
    return [t.with_shape((*x[:2], *out))]


def _infer_global(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    if len(x) < 3:
        raise shape_error(node, f"input {fmt(x)} needs a batch, a channel and spatial axes")
    return [t.with_shape((*x[:2], *(1,) * (len(x) - 2)))]


def _padded(x: AnyArray, window: Window, out: Sequence[int], fill: object) -> AnyArray:
    """x padded by the explicit pads plus the end overhang ``ceil_mode`` needs."""
    need = (s * (o - 1) + e for s, o, e in zip(window.strides, out, window.extent, strict=True))
    have = window.padded(x.shape[2:])
    overhang = [max(0, n - h) for n, h in zip(need, have, strict=True)]
    end = [e + o for e, o in zip(window.pads_end, overhang, strict=True)]
    return pad_spatial(x, window.pads_begin, end, fill)


def _lowest(dtype: np.dtype[Any]) -> object:
    if np.issubdtype(dtype, np.integer):
        return np.iinfo(dtype).min
    return -np.inf


@define_op("MaxPool", _infer_pool)
def max_pool(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Maximum over each window (kernel_shape, strides, pads, dilations, ceil_mode);
    padding never wins; fused ReLU."""
    x = arg(inputs, 0)
    window, out = _geometry(node, x.shape)
    xp = _padded(x, window, out, _lowest(x.dtype))
    return [fused_relu(node, reduce_windows(xp, window, out, np.maximum))]


def _tap_counts(
    window: Window, spatial: Sequence[int], out: Sequence[int], include_pad: bool
) -> AnyArray:
    """How many taps of each output window hit counted positions (broadcastable)."""
    divisor = np.ones((1, 1) + (1,) * len(out), dtype=np.float64)
    for j, (k, s, d, o, size, b, e) in enumerate(
        zip(
            window.kernel, window.strides, window.dilations, out, spatial,
            window.pads_begin, window.pads_end, strict=True,
        )
    ):  # fmt: skip
        lo, hi = (0, b + size + e) if include_pad else (b, b + size)
        pos = np.arange(o)[:, None] * s + np.arange(k)[None, :] * d
        count = ((pos >= lo) & (pos < hi)).sum(axis=1)
        shape = [1] * divisor.ndim
        shape[2 + j] = o
        divisor = divisor * count.reshape(shape)
    return divisor


@define_op("AveragePool", _infer_pool)
def average_pool(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Mean over each window; the pads count only with count_include_pad, the
    ceil_mode overhang never; fused ReLU."""
    x = arg(inputs, 0)
    window, out = _geometry(node, x.shape)
    include = bool(int_attr(node, "count_include_pad", 0))
    sums = reduce_windows(_padded(x, window, out, 0), window, out, np.add)
    sums /= _tap_counts(window, x.shape[2:], out, include).astype(sums.dtype)
    return [fused_relu(node, sums)]


@define_op("LpPool", _infer_pool)
def lp_pool(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """(sum over each window of |x|^p)^(1/p); pads count as zeros."""
    x = arg(inputs, 0)
    p = int_attr(node, "p", 2)
    window, out = _geometry(node, x.shape)
    powered = np.abs(x) ** p if p != 2 else np.square(x)
    sums = reduce_windows(_padded(powered, window, out, 0), window, out, np.add)
    return [np.asarray(sums ** (1.0 / p) if p != 2 else np.sqrt(sums)).astype(x.dtype)]


@define_op("GlobalAveragePool", _infer_global)
def global_average_pool(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Mean over every spatial axis, kept as size 1."""
    x = arg(inputs, 0)
    return [np.mean(x, axis=tuple(range(2, x.ndim)), keepdims=True, dtype=x.dtype)]


@define_op("GlobalMaxPool", _infer_global)
def global_max_pool(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Maximum over every spatial axis, kept as size 1."""
    x = arg(inputs, 0)
    return [np.max(x, axis=tuple(range(2, x.ndim)), keepdims=True)]
