"""Normalisations in inference form: BatchNormalization, InstanceNormalization,
LayerNormalization, GroupNormalization and LRN.

Statistics are computed two-pass (mean, then the mean of squared deviations) in the
input's dtype with numpy's pairwise sums, which keeps f32 results within an ulp or
two of onnxruntime's. BatchNormalization's per-channel affine form is folded in
float64 first, the same folding canonicalisation does into a preceding Conv.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op, opt_arg
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    axis_attr,
    broadcasts_onto,
    float_attr,
    fmt,
    input_type,
    int_attr,
    optional_type,
    same_dtype,
    shape_error,
    shape_of,
)


def _per_channel(node: Node, x: Shape, first: int, last: int) -> None:
    """Inputs ``first..last`` must be vectors of x's channel count."""
    if len(x) < 2:
        raise shape_error(node, f"input {fmt(x)} needs a batch and a channel axis")
    for i in range(first, last + 1):
        p = shape_of(input_type(node, i))
        if p != (x[1],):
            raise shape_error(
                node, f"input {i} has shape {fmt(p)}; it should be [{x[1]}], one per channel"
            )


def _infer_batch_norm(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    same_dtype(node, [input_type(node, i) for i in range(5)])
    _per_channel(node, shape_of(t), 1, 4)
    return [t]


def _channel_shape(x: AnyArray) -> tuple[int, ...]:
    return (x.shape[1],) + (1,) * (x.ndim - 2)


@define_op("BatchNormalization", _infer_batch_norm)
def batch_norm(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """(x - mean) / sqrt(var + epsilon) * scale + bias, per channel (axis 1)."""
    x = arg(inputs, 0)
    scale, bias, mean, var = (arg(inputs, i).astype(np.float64) for i in range(1, 5))
    eps = float_attr(node, "epsilon", 1e-5)
    a = scale / np.sqrt(var + eps)
    b = bias - mean * a
    shape = _channel_shape(x)
    y: AnyArray = x * a.astype(x.dtype).reshape(shape)
    y += b.astype(x.dtype).reshape(shape)
    return [y]


def _normalize(x: AnyArray, axes: tuple[int, ...], eps: float) -> AnyArray:
    """(x - mean) / sqrt(var + eps) over ``axes`` in x's dtype."""
    centered: AnyArray = x - np.mean(x, axis=axes, keepdims=True, dtype=x.dtype)
    var = np.mean(np.square(centered), axis=axes, keepdims=True, dtype=x.dtype)
    var += x.dtype.type(eps)
    centered /= np.sqrt(var)
    return centered


def _infer_instance_norm(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    same_dtype(node, [input_type(node, i) for i in range(3)])
    x = shape_of(t)
    if len(x) < 3:
        raise shape_error(node, f"input {fmt(x)} needs a batch, a channel and spatial axes")
    _per_channel(node, x, 1, 2)
    return [t]


@define_op("InstanceNormalization", _infer_instance_norm)
def instance_norm(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Each (sample, channel) normalised over its spatial axes, then scale and bias."""
    x, scale, bias = arg(inputs, 0), arg(inputs, 1), arg(inputs, 2)
    y = _normalize(x, tuple(range(2, x.ndim)), float_attr(node, "epsilon", 1e-5))
    shape = _channel_shape(x)
    y *= scale.reshape(shape)
    y += bias.reshape(shape)
    return [y]


def _infer_layer_norm(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    axis_attr(node, len(x), -1)
    for i in (1, 2):
        p = optional_type(node, i)
        if p is None:
            continue
        same_dtype(node, [t, p])
        if not broadcasts_onto(shape_of(p), x):
            raise shape_error(
                node, f"input {i} {fmt(shape_of(p))} does not broadcast onto {fmt(x)}"
            )
    return [t]


@define_op("LayerNormalization", _infer_layer_norm)
def layer_norm(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x normalised over axes axis..rank-1, times scale, plus bias (both optional)."""
    x, scale, bias = arg(inputs, 0), opt_arg(inputs, 1), opt_arg(inputs, 2)
    axis = axis_attr(node, x.ndim, -1)
    y = _normalize(x, tuple(range(axis, x.ndim)), float_attr(node, "epsilon", 1e-5))
    if scale is not None:
        y *= scale
    if bias is not None:
        y += bias
    return [y]


def _infer_group_norm(node: Node) -> list[TensorType]:
    t = _infer_instance_norm(node)[0]
    x = shape_of(t)
    groups = int_attr(node, "num_groups")
    if groups < 1 or x[1] % groups:
        raise shape_error(node, f"num_groups {groups} does not divide the {x[1]} channels")
    return [t]


@define_op("GroupNormalization", _infer_group_norm)
def group_norm(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Channels split into num_groups groups, each (sample, group) normalised over its
    channels and spatial axes; then per-channel scale and bias."""
    x, scale, bias = arg(inputs, 0), arg(inputs, 1), arg(inputs, 2)
    groups = int_attr(node, "num_groups")
    grouped = x.reshape(x.shape[0], groups, -1)
    y = _normalize(grouped, (2,), float_attr(node, "epsilon", 1e-5)).reshape(x.shape)
    shape = _channel_shape(x)
    y *= scale.reshape(shape)
    y += bias.reshape(shape)
    return [y]


def _infer_lrn(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    if len(shape_of(t)) < 3:
        raise shape_error(node, f"input {fmt(shape_of(t))} needs batch, channel, spatial axes")
    if int_attr(node, "size") < 1:
        raise shape_error(node, "size must be positive")
    return [t]


@define_op("LRN", _infer_lrn)
def lrn(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x / (bias + alpha / size * sum of x^2 over channels c - (size-1)//2 ..
    c + ceil((size-1)/2))^beta."""
    x = arg(inputs, 0)
    size = int_attr(node, "size")
    alpha = float_attr(node, "alpha", 1e-4)
    beta = float_attr(node, "beta", 0.75)
    bias = float_attr(node, "bias", 1.0)
    before = (size - 1) // 2
    after = size - 1 - before
    sq = np.square(x)
    padded = np.pad(sq, [(0, 0), (before, after)] + [(0, 0)] * (x.ndim - 2))
    channels = x.shape[1]
    total = np.zeros_like(sq)
    for t in range(size):
        total += padded[:, t : t + channels]
    total *= alpha / size
    total += bias
    return [x / total**beta]
