"""Conv (1-D, 2-D, 3-D, grouped, depthwise) with the fused ReLU.

Three kernels, chosen by shape, none with per-pixel Python loops:

- im2col, the general case: the padded input's ``sliding_window_view`` is copied
  into a ``(C/g * k..., positions)`` column matrix that the ``(C_out/g, C/g * k...)``
  weight multiplies, one BLAS matmul per group, a tile of output rows at a time so
  the columns stay in cache (a 1x1 kernel needs no copy at all);
- shifted outputs, for stride 1 with fewer output than input channels: one matmul of
  every tap's weights with the padded input as it lies, then the per-tap products
  summed at their tap's offset. The product is smaller than the column matrix, so
  the big copy disappears;
- depthwise (one input channel per group): ``k...`` shifted slices of the padded
  input, each scaled by its per-channel tap and accumulated, a cache-sized block of
  channels at a time (the column matrix would be ``k...`` copies of the input for a
  handful of flops); large stride-1 maps run on the flattened grid, where each tap
  is one contiguous slice.

Bias and the fused ReLU are applied block by block while the block is in cache.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op, fused_relu, opt_arg
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    fmt,
    input_type,
    int_attr,
    numel,
    optional_type,
    same_dtype,
    shape_error,
    shape_of,
)
from sophonc.ops.spatial import Window, output_spatial, pad_spatial, read_window, tap_slices

#: Elements of the block a kernel works on at once (im2col columns of a tile of output
#: rows, or depthwise outputs of a group of channels): about 1 MiB of f32, so the
#: block, its bias and its activation stay in cache.
_TILE = 1 << 18
#: Fewest output positions an im2col tile multiplies at once: narrower matmuls waste
#: more time in BLAS call overhead than they gain in cache.
_MIN_TILE_POSITIONS = 4096
#: Flattened-grid depthwise: used from this many output positions per channel (below,
#: the per-block call overhead outweighs the faster streaming), in blocks of about
#: this many elements per array.
_FLAT_MIN = 2048
_FLAT_BLOCK = 1 << 16


@dataclass(frozen=True, slots=True)
class ConvGeometry:
    """Everything the Conv shape rule and kernel agree on."""

    group: int
    window: Window
    out_spatial: tuple[int, ...]
    out_channels: int


def conv_geometry(
    node: Node, x: Shape, w: Shape, bias: Shape | None, ceil_mode: bool = False
) -> ConvGeometry:
    """Check a Conv's operand shapes against each other and its attributes."""
    rank = len(x) - 2
    if rank < 1:
        raise shape_error(node, f"input {fmt(x)} needs a batch, a channel and spatial axes")
    if len(w) != len(x):
        raise shape_error(node, f"weight {fmt(w)} and input {fmt(x)} differ in rank")
    group = int_attr(node, "group", 1)
    if group < 1 or x[1] % group or w[0] % group or w[1] * group != x[1]:
        raise shape_error(
            node,
            f"weight {fmt(w)} with group {group} does not fit input {fmt(x)}: the weight "
            f"needs C_in/group = {w[1]} channels per group and C_out divisible by group",
        )
    window = read_window(node, rank, w[2:])
    if window.kernel != tuple(w[2:]):
        raise shape_error(
            node, f"kernel_shape {list(window.kernel)} disagrees with weight {fmt(w)}"
        )
    if bias is not None and tuple(bias) != (w[0],):
        raise shape_error(node, f"bias {fmt(bias)} should be [{w[0]}], one per output channel")
    out = output_spatial(node, window, x[2:], ceil_mode)
    return ConvGeometry(group, window, out, w[0])


def _infer_conv(node: Node) -> list[TensorType]:
    x, w, b = input_type(node, 0), input_type(node, 1), optional_type(node, 2)
    dtype = same_dtype(node, [x, w] if b is None else [x, w, b])
    xs = shape_of(x)
    geo = conv_geometry(node, xs, shape_of(w), None if b is None else shape_of(b))
    return [TensorType(dtype, (xs[0], geo.out_channels, *geo.out_spatial))]


def _columns(xp: AnyArray, window: Window, out: Sequence[int]) -> AnyArray:
    """Strided view ``(N, C, *k, *out)``: the input element each tap reads per position."""
    rank = len(out)
    spatial_axes = tuple(range(2, 2 + rank))
    if all(k == 1 for k in window.kernel):
        view = xp[(slice(None), slice(None), *tap_slices([0] * rank, window.strides, out))]
        return view.reshape(view.shape[:2] + (1,) * rank + view.shape[2:])
    views = sliding_window_view(xp, window.extent, axis=spatial_axes)
    index = (
        slice(None),
        slice(None),
        *tap_slices([0] * rank, window.strides, out),
        *(slice(None, None, d) for d in window.dilations),
    )
    taps = views[index]  # (N, C, *out, *k)
    kernel_axes = tuple(range(2 + rank, 2 + 2 * rank))
    return taps.transpose((0, 1, *kernel_axes, *spatial_axes))


def _group_slices(geo: ConvGeometry, channels: int) -> list[tuple[slice, slice]]:
    """(input channels, output channels) of each group."""
    cin_g, cout_g = channels // geo.group, geo.out_channels // geo.group
    return [
        (slice(g * cin_g, (g + 1) * cin_g), slice(g * cout_g, (g + 1) * cout_g))
        for g in range(geo.group)
    ]


def _finish(node: Node, block: AnyArray, bias: AnyArray | None, channels: slice) -> None:
    """Add the bias and apply the fused ReLU, in place, to a block of the output whose
    first axis is ``channels`` (done block by block, while the block is in cache)."""
    if bias is not None:
        block += bias[channels].reshape((-1,) + (1,) * (block.ndim - 1))
    fused_relu(node, block)


def _matmul_into(a: AnyArray, b: AnyArray, block: AnyArray) -> None:
    """``block[...] = a @ b`` with ``block`` viewed as a matrix, without a temporary."""
    flat = block.reshape(block.shape[0], -1)
    if np.may_share_memory(flat, block):
        np.matmul(a, b, out=flat)
    else:
        block[...] = np.matmul(a, b).reshape(block.shape)


def _im2col_conv(
    node: Node, xp: AnyArray, w: AnyArray, bias: AnyArray | None, geo: ConvGeometry
) -> AnyArray:
    """im2col + matmul per group, in tiles of output rows whose columns fit in cache."""
    n, c = xp.shape[:2]
    out = geo.out_spatial
    depth = c // geo.group * numel(geo.window.kernel)
    w2 = w.reshape(geo.out_channels, depth)
    cols_view = _columns(xp, geo.window, out)  # (N, C, *k, *out)
    y = np.empty((n, geo.out_channels, *out), dtype=np.result_type(xp, w))
    positions = max(_MIN_TILE_POSITIONS, _TILE // max(1, depth))
    rows = max(1, positions // max(1, numel(out[1:])))
    kernel_axes = (slice(None),) * len(out)
    for b in range(n):
        for r0 in range(0, out[0], rows):
            span = slice(r0, min(out[0], r0 + rows))
            for cin, cout in _group_slices(geo, c):
                index: tuple[int | slice, ...] = (b, cin, *kernel_axes, span)
                cols = cols_view[index].reshape(depth, -1)
                block = y[b, cout, span]
                _matmul_into(w2[cout], cols, block)
                _finish(node, block, bias, cout)
    return y


def _prefers_shifted_outputs(geo: ConvGeometry, padded: Sequence[int], channels: int) -> bool:
    """Whether multiplying first and shifting the products beats im2col.

    Only for stride 1 (otherwise the products at skipped positions are wasted work),
    and only when the per-tap products, ``C_out/g * padded`` per tap, are clearly
    smaller than the column matrix, ``C/g * out`` per tap: then the big copy im2col
    makes is the cost to avoid (e.g. a 96 -> 24 channel 3x3 conv, 4x faster).
    """
    if numel(geo.window.kernel) == 1 or any(s != 1 for s in geo.window.strides):
        return False
    products = geo.out_channels // geo.group * numel(padded)
    columns = channels // geo.group * numel(geo.out_spatial)
    return 2 * products < columns


def _shifted_output_conv(
    node: Node, xp: AnyArray, w: AnyArray, bias: AnyArray | None, geo: ConvGeometry
) -> AnyArray:
    """Stride-1 conv as one matmul of every tap's weights with the whole padded input,
    then a sum of the products shifted by each tap's offset."""
    n, c = xp.shape[:2]
    padded = xp.shape[2:]
    taps = numel(geo.window.kernel)
    cout_g = geo.out_channels // geo.group
    y = np.empty((n, geo.out_channels, *geo.out_spatial), dtype=np.result_type(xp, w))
    offsets = [
        [p * d for p, d in zip(pos, geo.window.dilations, strict=True)]
        for pos in itertools.product(*(range(k) for k in geo.window.kernel))
    ]
    for cin, cout in _group_slices(geo, c):
        # rows ordered (tap, output channel): one weight matrix for every tap at once
        wt = np.ascontiguousarray(np.moveaxis(w[cout].reshape(cout_g, -1, taps), 2, 0))
        wt = wt.reshape(taps * cout_g, -1)
        for b in range(n):
            products = np.matmul(wt, xp[b, cin].reshape(-1, numel(padded)))
            products = products.reshape(taps, cout_g, *padded)
            block = y[b, cout]
            for t, offset in enumerate(offsets):
                where = tap_slices(offset, geo.window.strides, geo.out_spatial)
                part = products[(t, slice(None), *where)]
                if t == 0:
                    block[...] = part
                else:
                    block += part
            _finish(node, block, bias, cout)
    return y


def _depthwise_flat(
    node: Node, xp: AnyArray, taps: AnyArray, bias: AnyArray | None, geo: ConvGeometry
) -> AnyArray:
    """Stride-1 depthwise conv computed on the flattened padded grid.

    Output position p sits at the same flat index as input position p of the padded
    input, and tap t reads ``offset(t)`` elements further on: every tap is then one
    contiguous slice per channel, which numpy streams far faster than a 2-D strided
    window. The grid's extra columns (beyond the output) are computed and dropped.
    """
    n, c = xp.shape[:2]
    padded = xp.shape[2:]
    pitch = [numel(padded[a + 1 :]) for a in range(len(padded))]
    length = sum((o - 1) * p for o, p in zip(geo.out_spatial, pitch, strict=True)) + 1
    flat = xp.reshape(n, c, numel(padded))
    grid = np.empty((n, c, numel(padded)), dtype=np.result_type(xp, taps))
    starts = [
        sum(k * d * p for k, d, p in zip(pos, geo.window.dilations, pitch, strict=True))
        for pos in itertools.product(*(range(k) for k in geo.window.kernel))
    ]
    step = max(1, _FLAT_BLOCK // length)
    scratch = np.empty((min(step, c), length), dtype=grid.dtype)
    for b in range(n):
        for first in range(0, c, step):
            chans = slice(first, min(first + step, c))
            block = grid[b, chans, :length]
            tmp = scratch[: block.shape[0]]
            for t, start in enumerate(starts):
                part = flat[b, chans, start : start + length]
                coeff = taps[chans, t, None]
                if t == 0:
                    np.multiply(part, coeff, out=block)
                else:
                    np.multiply(part, coeff, out=tmp)
                    block += tmp
            _finish(node, block, bias, chans)
    inside = tuple(slice(0, o) for o in geo.out_spatial)
    return np.ascontiguousarray(grid.reshape(n, c, *padded)[(slice(None), slice(None), *inside)])


def _depthwise_conv(
    node: Node, xp: AnyArray, w: AnyArray, bias: AnyArray | None, geo: ConvGeometry
) -> AnyArray:
    """Per-channel taps accumulated over shifted slices, a cache-sized block of
    channels at a time (on the flattened grid for large stride-1 maps)."""
    n, c = xp.shape[:2]
    mult = geo.out_channels // c
    if mult > 1:  # output channel o reads input channel o // mult
        xp = np.repeat(xp, mult, axis=1)
    if all(s == 1 for s in geo.window.strides) and numel(geo.out_spatial) >= _FLAT_MIN:
        return _depthwise_flat(node, xp, w.reshape(geo.out_channels, -1), bias, geo)
    rank = len(geo.out_spatial)
    taps = w.reshape(geo.out_channels, -1)
    y = np.empty((n, geo.out_channels, *geo.out_spatial), dtype=np.result_type(xp, w))
    step = max(1, _TILE // max(1, numel(geo.out_spatial)))
    scratch = np.empty((min(step, geo.out_channels), *geo.out_spatial), dtype=y.dtype)
    offsets = [
        [p * d for p, d in zip(pos, geo.window.dilations, strict=True)]
        for pos in itertools.product(*(range(k) for k in geo.window.kernel))
    ]
    for b in range(n):
        for start in range(0, geo.out_channels, step):
            chans = slice(start, min(start + step, geo.out_channels))
            block = y[b, chans]
            tmp = scratch[: block.shape[0]]
            for t, offset in enumerate(offsets):
                where = tap_slices(offset, geo.window.strides, geo.out_spatial)
                index: tuple[int | slice, ...] = (b, chans, *where)
                part = xp[index]
                coeff = taps[chans, t].reshape((-1,) + (1,) * rank)
                if t == 0:
                    np.multiply(part, coeff, out=block)
                else:
                    np.multiply(part, coeff, out=tmp)
                    block += tmp
            _finish(node, block, bias, chans)
    return y


@define_op("Conv", _infer_conv)
def conv(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Cross-correlation of x (N, C, spatial...) with w (C_out, C/group, k...), explicit
    pads (begin..., end...), strides, dilations and groups; plus bias; fused ReLU."""
    x, w, b = arg(inputs, 0), arg(inputs, 1), opt_arg(inputs, 2)
    geo = conv_geometry(node, x.shape, w.shape, None if b is None else b.shape)
    xp = pad_spatial(x, geo.window.pads_begin, geo.window.pads_end)
    channels = x.shape[1]
    if geo.group > 1 and geo.group == channels:
        return [_depthwise_conv(node, xp, w, b, geo)]
    if _prefers_shifted_outputs(geo, xp.shape[2:], channels):
        return [_shifted_output_conv(node, xp, w, b, geo)]
    return [_im2col_conv(node, xp, w, b, geo)]
