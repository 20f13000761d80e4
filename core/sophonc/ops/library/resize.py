"""Resize: nearest, (multi)linear and cubic interpolation, axis by axis.

All three modes are separable, so the kernel maps one resized axis at a time: it
computes each output position's source coordinate, then gathers (nearest) or blends
two (linear) or four (cubic) source slices with per-position weights.

The source coordinate follows ``coordinate_transformation_mode`` and is computed in
float32, in the same order of operations onnxruntime uses, because nearest rounding
at exact halves (and the floor of linear/cubic) must land on the same pixel. The
scale in that formula is the ``scales`` attribute when the frontend kept one (ONNX
gave scales) and ``out / in`` otherwise. Linear clamps the coordinate to the input;
nearest and cubic clamp the pixel indices instead, and cubic with
``exclude_outside`` drops taps outside the input and renormalises the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    choice_attr,
    float_attr,
    floats_attr,
    fmt,
    input_type,
    int_attr,
    ints_attr,
    shape_error,
    shape_of,
)

F32 = npt.NDArray[np.float32]

MODES = ("nearest", "linear", "cubic")
TRANSFORMS = (
    "half_pixel",
    "half_pixel_symmetric",
    "pytorch_half_pixel",
    "align_corners",
    "asymmetric",
    "tf_half_pixel_for_nn",
)
NEAREST_MODES = ("round_prefer_floor", "round_prefer_ceil", "floor", "ceil")


def _sizes_and_scales(node: Node, x: Shape) -> tuple[Shape, tuple[np.float32, ...]]:
    sizes = ints_attr(node, "sizes")
    if len(sizes) != len(x) or any(s < 1 for s in sizes):
        raise shape_error(node, f"sizes {list(sizes)} need one positive size per axis of {fmt(x)}")
    given = floats_attr(node, "scales")
    if given is None:
        return sizes, tuple(np.float32(o) / np.float32(i) for o, i in zip(sizes, x, strict=True))
    if len(given) != len(x):
        raise shape_error(node, f"scales {list(given)} need one value per axis of {fmt(x)}")
    return sizes, tuple(np.float32(s) for s in given)


def _infer(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    choice_attr(node, "mode", "nearest", MODES)
    choice_attr(node, "coordinate_transformation_mode", "half_pixel", TRANSFORMS)
    choice_attr(node, "nearest_mode", "round_prefer_floor", NEAREST_MODES)
    sizes, _ = _sizes_and_scales(node, shape_of(t))
    return [t.with_shape(sizes)]


def source_coordinates(transform: str, out_len: int, in_len: int, scale: np.float32) -> F32:
    """Where each output position of one axis samples the input (float32)."""
    x = np.arange(out_len, dtype=np.float32)
    half = np.float32(0.5)
    if transform == "half_pixel":
        return (x + half) / scale - half
    if transform == "half_pixel_symmetric":
        adjustment = np.float32(out_len) / (scale * np.float32(in_len))
        offset = (np.float32(in_len) / np.float32(2)) * (np.float32(1) - adjustment)
        return offset + (x + half) / scale - half
    if transform == "pytorch_half_pixel":
        return (x + half) / scale - half if out_len > 1 else np.zeros_like(x)
    if transform == "align_corners":
        if out_len == 1:
            return np.zeros_like(x)
        return x * np.float32(in_len - 1) / np.float32(out_len - 1)
    if transform == "asymmetric":
        return x / scale
    return (x + half) / scale  # tf_half_pixel_for_nn


def nearest_indices(coords: F32, rounding: str, in_len: int) -> npt.NDArray[np.int64]:
    """Source pixel of each coordinate under ``nearest_mode``, clamped to the input."""
    below = np.floor(coords)
    if rounding == "floor":
        picked = below
    elif rounding == "ceil":
        picked = np.ceil(coords)
    else:
        at_half = (coords - below) == np.float32(0.5)
        tie = below if rounding == "round_prefer_floor" else below + 1
        picked = np.where(at_half, tie, np.floor(coords.astype(np.float64) + 0.5))
    return np.clip(picked, 0, in_len - 1).astype(np.int64)


def _along(axis: int, ndim: int, values: AnyArray) -> AnyArray:
    """``values`` (one per position of ``axis``) shaped to broadcast along it."""
    shape = [1] * ndim
    shape[axis] = values.shape[0]
    return values.reshape(shape)


def _linear(x: AnyArray, axis: int, coords: F32) -> AnyArray:
    n = x.shape[axis]
    c = np.clip(coords, 0, n - 1)
    lo = np.minimum(c.astype(np.int64), n - 1)
    hi = np.minimum(lo + 1, n - 1)
    w_hi = _along(axis, x.ndim, (c - lo).astype(x.dtype))
    y: AnyArray = np.take(x, lo, axis=axis) * (1 - w_hi)
    y += np.take(x, hi, axis=axis) * w_hi
    return y


def cubic_weights(t: AnyArray, a: float) -> list[AnyArray]:
    """Keys' cubic convolution weights of the taps at offsets -1, 0, 1, 2 from
    ``floor(coordinate)``, for fractional parts ``t``."""

    def near(d: AnyArray) -> AnyArray:  # |d| <= 1
        return np.asarray(((a + 2) * d - (a + 3)) * d * d + 1)

    def far(d: AnyArray) -> AnyArray:  # 1 < |d| < 2
        return np.asarray(((a * d - 5 * a) * d + 8 * a) * d - 4 * a)

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def _cubic(x: AnyArray, axis: int, coords: F32, a: float, exclude_outside: bool) -> AnyArray:
    n = x.shape[axis]
    c = coords.astype(np.float64)
    base = np.floor(c)
    weights = cubic_weights(c - base, a)
    taps = [base.astype(np.int64) + off for off in (-1, 0, 1, 2)]
    if exclude_outside:
        weights = [np.where((i >= 0) & (i < n), w, 0.0) for w, i in zip(weights, taps, strict=True)]
        total = sum(weights[1:], weights[0])
        weights = [w / total for w in weights]
    y: AnyArray = np.zeros((*x.shape[:axis], len(coords), *x.shape[axis + 1 :]), dtype=x.dtype)
    for w, i in zip(weights, taps, strict=True):
        y += np.take(x, np.clip(i, 0, n - 1), axis=axis) * _along(axis, x.ndim, w.astype(x.dtype))
    return y


@define_op("Resize", _infer)
def resize(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x resampled to ``sizes`` by ``mode`` (nearest / linear / cubic) under
    ``coordinate_transformation_mode``, ``nearest_mode``, ``cubic_coeff_a`` and
    ``exclude_outside``; axes whose size and scale are unchanged are copied."""
    x = arg(inputs, 0)
    sizes, scales = _sizes_and_scales(node, x.shape)
    mode = choice_attr(node, "mode", "nearest", MODES)
    transform = choice_attr(node, "coordinate_transformation_mode", "half_pixel", TRANSFORMS)
    rounding = choice_attr(node, "nearest_mode", "round_prefer_floor", NEAREST_MODES)
    a = float_attr(node, "cubic_coeff_a", -0.75)
    exclude = bool(int_attr(node, "exclude_outside", 0))
    y = x
    for axis, (out_len, in_len, scale) in enumerate(zip(sizes, x.shape, scales, strict=True)):
        if out_len == in_len and scale == 1:
            continue
        coords = source_coordinates(transform, out_len, in_len, scale)
        if mode == "nearest":
            y = np.take(y, nearest_indices(coords, rounding, in_len), axis=axis)
        elif mode == "linear":
            y = _linear(y, axis, coords)
        else:
            y = _cubic(y, axis, coords, a, exclude)
    return [np.array(y, copy=True) if y is x else y]
