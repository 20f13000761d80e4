"""INT8 average pooling and sum/mean reductions: an exact integer sum, one re-scale.

Dividing by the number of summed elements is folded into the requant factor:
``y = RightShiftRound(Σ (x - zp_in) · m, s, HALF_UP) + zp_out`` with
``m / 2^s ≈ in_scale / (out_scale · count)``, then the fused ReLU and saturation.
The sums are int64 and exact, so the only rounding is the final shift.

AveragePool pads with the real value 0 (centred code 0) and, like the core op,
counts the explicit pads only with ``count_include_pad`` and the ceil-mode
overhang never; when the count varies over the output the multiplier and shift
are maps over the output positions (weights), else one pair. ReduceSum sums
over ``axes`` (ReduceMean, ReduceSum and GlobalAveragePool all lower to it, the
mean's divisor being in its multiplier).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ops.shape_rules import axes_attr, int_attr
from sophonc.ops.spatial import Window, output_spatial, pad_spatial, read_window, reduce_windows
from sophonc.quant import RoundMode, apply_multiplier_shift, as_int64
from sophonc.quant.rounding import Int64Array
from sophonc_backend_bm1684x.program.kernels.requant_tail import finish
from sophonc_backend_bm1684x.program.registry import Array, chip_op
from sophonc_backend_bm1684x.program.storage import per_tensor


def pool_geometry(node: Node, spatial: Sequence[int]) -> tuple[Window, tuple[int, ...]]:
    """The window of a pooling node and its output spatial sizes (core semantics)."""
    window = read_window(node, len(spatial))
    ceil_mode = bool(int_attr(node, "ceil_mode", 0))
    return window, output_spatial(node, window, spatial, ceil_mode)


def window_sums(x: Int64Array, window: Window, out: Sequence[int], pad_fill: int) -> Int64Array:
    """The sum of every window of ``x`` (N, C, spatial…).

    The explicit pads hold ``pad_fill``; the end overhang that ``ceil_mode``
    adds holds 0. Summing ones with ``pad_fill = 1`` (or 0) therefore gives the
    count of a window with (without) ``count_include_pad``.
    """
    have = window.padded(x.shape[2:])
    need = [s * (o - 1) + e for s, o, e in zip(window.strides, out, window.extent, strict=True)]
    overhang = [max(0, n - h) for n, h in zip(need, have, strict=True)]
    padded = pad_spatial(x, window.pads_begin, window.pads_end, pad_fill)
    padded = pad_spatial(padded, (0,) * len(overhang), overhang, 0)
    return reduce_windows(padded, window, out, np.add)


def window_counts(node: Node, spatial: Sequence[int]) -> Int64Array:
    """How many elements each output of an AveragePool divides by, shape (1, 1, out…).

    The lowering derives its multipliers from this; it uses the kernel's own
    window arithmetic, so counts and sums cannot disagree about a window.
    """
    window, out = pool_geometry(node, spatial)
    include_pad = bool(int_attr(node, "count_include_pad", 0))
    ones = np.ones((1, 1, *spatial), dtype=np.int64)
    return window_sums(ones, window, out, 1 if include_pad else 0)


def _centred(node: Node, x: Array) -> Int64Array:
    _, zp = per_tensor(node.input(0))
    return as_int64(x) - zp


@chip_op("AveragePool")
def average_pool_int8(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Inputs: x (i8/u8), multiplier and shift (i32, shape (1,) or (1, 1, out…))."""
    x, multiplier, shift = inputs
    assert x is not None and multiplier is not None and shift is not None
    window, out = pool_geometry(node, x.shape[2:])
    sums = window_sums(_centred(node, x), window, out, 0)
    y = apply_multiplier_shift(sums, multiplier, shift, RoundMode.HALF_UP)
    return [finish(node, y)]


@chip_op("ReduceSum")
def reduce_sum_int8(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Sum over ``axes`` (empty: all) re-scaled by the ``multiplier``/``shift`` attributes;
    ``keepdims`` as the core reductions."""
    (x,) = inputs
    assert x is not None
    axes = axes_attr(node, x.ndim)
    sums: Int64Array = np.sum(_centred(node, x), axis=axes, keepdims=True)
    if not int_attr(node, "keepdims", 1):
        sums = sums.reshape(tuple(d for i, d in enumerate(sums.shape) if i not in axes))
    y = apply_multiplier_shift(sums, node.int("multiplier"), node.int("shift"), RoundMode.HALF_UP)
    return [finish(node, y)]
