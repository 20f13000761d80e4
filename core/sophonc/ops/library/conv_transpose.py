"""ConvTranspose (1-D, 2-D, 3-D, grouped) with the fused ReLU.

The transposed convolution is computed the way its gradient-of-Conv definition
reads: one BLAS matmul per group turns every input pixel into its ``C_out/g * k...``
contributions, and a col2im step scatter-adds them into the output, one strided
slice per kernel tap. The explicit pads then crop the full result; output_padding
extends it at the end.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op, fused_relu, opt_arg
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    fmt,
    input_type,
    int_attr,
    ints_attr,
    numel,
    optional_type,
    same_dtype,
    shape_error,
    shape_of,
)
from sophonc.ops.spatial import Window, read_window, tap_slices


@dataclass(frozen=True, slots=True)
class TransposeGeometry:
    """Everything the ConvTranspose shape rule and kernel agree on."""

    group: int
    window: Window
    full: tuple[int, ...]
    out_spatial: tuple[int, ...]
    out_channels: int


def transpose_geometry(node: Node, x: Shape, w: Shape, bias: Shape | None) -> TransposeGeometry:
    """Check a ConvTranspose's operand shapes against each other and its attributes."""
    rank = len(x) - 2
    if rank < 1 or len(w) != len(x):
        raise shape_error(
            node, f"input {fmt(x)} and weight {fmt(w)} need equal ranks of at least 3"
        )
    group = int_attr(node, "group", 1)
    if group < 1 or w[0] != x[1] or x[1] % group:
        raise shape_error(
            node,
            f"weight {fmt(w)} with group {group} does not fit input {fmt(x)}: the weight is "
            f"(C_in, C_out/group, k...) with C_in divisible by group",
        )
    window = read_window(node, rank, w[2:])
    if window.kernel != tuple(w[2:]):
        raise shape_error(
            node, f"kernel_shape {list(window.kernel)} disagrees with weight {fmt(w)}"
        )
    extra = ints_attr(node, "output_padding", (0,) * rank)
    if len(extra) != rank or any(e < 0 for e in extra):
        raise shape_error(node, f"output_padding {list(extra)} needs {rank} non-negative values")
    full = tuple(
        s * (i - 1) + e + ext
        for s, i, e, ext in zip(window.strides, x[2:], extra, window.extent, strict=True)
    )
    out = tuple(f - b - e for f, b, e in zip(full, window.pads_begin, window.pads_end, strict=True))
    if any(o < 1 for o in out):
        raise shape_error(
            node, f"pads {list(window.pads_begin + window.pads_end)} crop the output to {list(out)}"
        )
    channels = w[1] * group
    if bias is not None and tuple(bias) != (channels,):
        raise shape_error(node, f"bias {fmt(bias)} should be [{channels}], one per output channel")
    return TransposeGeometry(group, window, full, out, channels)


def _infer(node: Node) -> list[TensorType]:
    x, w, b = input_type(node, 0), input_type(node, 1), optional_type(node, 2)
    dtype = same_dtype(node, [x, w] if b is None else [x, w, b])
    xs = shape_of(x)
    geo = transpose_geometry(node, xs, shape_of(w), None if b is None else shape_of(b))
    return [TensorType(dtype, (xs[0], geo.out_channels, *geo.out_spatial))]


@define_op("ConvTranspose", _infer)
def conv_transpose(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Transposed convolution of x (N, C_in, spatial...) with w (C_in, C_out/group, k...):
    explicit pads crop, output_padding extends the end; plus bias; fused ReLU."""
    x, w, b = arg(inputs, 0), arg(inputs, 1), opt_arg(inputs, 2)
    geo = transpose_geometry(node, x.shape, w.shape, None if b is None else b.shape)
    n, c_in = x.shape[:2]
    rank = len(geo.out_spatial)
    g = geo.group
    cin_g, cout_g = c_in // g, geo.out_channels // g
    taps = numel(geo.window.kernel)
    pixels = x.shape[2:]
    full = np.zeros((n, geo.out_channels, *geo.full), dtype=np.result_type(x, w))
    for gi in range(g):
        cin = slice(gi * cin_g, (gi + 1) * cin_g)
        cout = slice(gi * cout_g, (gi + 1) * cout_g)
        wg = w[cin].reshape(cin_g, cout_g * taps)
        xg = x[:, cin].reshape(n, cin_g, numel(pixels))
        cols = np.matmul(wg.T, xg).reshape(n, cout_g, *geo.window.kernel, *pixels)
        positions = itertools.product(*(range(k) for k in geo.window.kernel))
        for pos in positions:
            offsets = [p * d for p, d in zip(pos, geo.window.dilations, strict=True)]
            target = (slice(None), cout, *tap_slices(offsets, geo.window.strides, pixels))
            full[target] += cols[(slice(None), slice(None), *pos)]
    crop = tuple(
        slice(b0, b0 + o) for b0, o in zip(geo.window.pads_begin, geo.out_spatial, strict=True)
    )
    y = np.ascontiguousarray(full[(slice(None), slice(None), *crop)])
    if b is not None:
        y += b.reshape((geo.out_channels,) + (1,) * rank)
    return [fused_relu(node, y)]
