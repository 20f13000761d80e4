"""AveragePool and GlobalAveragePool in INT8: integer window sums, divisor in the requant.

Each output is ``sum(window of x - zp_in) · m >> s`` with ``m / 2^s ≈
in_scale / (out_scale · count)`` (``scale_and_shift`` with an 8-bit multiplier,
as TPU-MLIR's ``tpu.Pool2D`` on BM1684X: ``31 >> 11`` for a 3×96 window of the
PP-OCR classifier; HALF_UP, whatever rounding the op's attribute names: its
outputs give ``-880 · 1 >> 5 = -27``). ``count`` follows the core op: with ``count_include_pad`` the
explicit pads count, the ceil-mode overhang never. Where the count is the same
everywhere there is one multiplier/shift; where it differs (border windows with
``count_include_pad = 0``, ceil-mode overhang) a multiplier is derived for each
distinct count, and the program holds the multiplier and shift of every output
position as two small (1, 1, out…) weights, so border outputs are as exact as
inner ones instead of running the whole pool in float. GlobalAveragePool is a
``ReduceSum`` over the spatial axes with the divisor folded in.
"""

from __future__ import annotations

import numpy as np

from sophonc.ir.node import Node
from sophonc.ops.shape_rules import numel
from sophonc.quant import scale_and_shift
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import output_form, relu_attrs, scale_of
from sophonc_backend_bm1684x.lowering.int8.reduce import emit_scaled_sum
from sophonc_backend_bm1684x.lowering.rules import int8_rule
from sophonc_backend_bm1684x.program.kernels.pool import window_counts

#: Width of an average pool's requant multiplier.
POOL_MULTIPLIER_BITS = 8
#: AveragePool attributes the program node keeps (its geometry).
POOL_ATTRS = ("kernel_shape", "strides", "pads", "dilations", "ceil_mode", "count_include_pad")


@int8_rule("AveragePool")
def lower_average_pool(ctx: LoweringContext, node: Node) -> bool:
    """``AveragePool`` program node with per-count requant (see the module docstring)."""
    out, top_x = node.output, node.input(0)
    if out.quant is None or top_x.type.shape is None:
        return False
    x = ctx.as_int8(top_x)
    if x is None:
        return False
    counts = window_counts(node, top_x.type.shape[2:])
    distinct, where = np.unique(counts, return_inverse=True)
    ratios = scale_of(x) / (out.quant.scale[0] * distinct.astype(np.float64))
    multipliers, shifts = scale_and_shift(ratios, POOL_MULTIPLIER_BITS)
    if distinct.size == 1:
        m_map, s_map = multipliers, shifts
    else:
        m_map = multipliers[where].reshape(counts.shape)
        s_map = shifts[where].reshape(counts.shape)
    attrs: dict[str, object] = {k: v for k, v in node.attrs.items() if k in POOL_ATTRS}
    attrs.update(relu_attrs(node, out.quant))
    name = out.name
    (y,) = ctx.emit(
        "AveragePool",
        [
            x,
            ctx.weight(f"{name}_multiplier", m_map.astype(np.int32)),
            ctx.weight(f"{name}_shift", s_map.astype(np.int32)),
        ],
        attrs,
        [output_form(out)],
    )
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True


@int8_rule("GlobalAveragePool")
def lower_global_average_pool(ctx: LoweringContext, node: Node) -> bool:
    """A ``ReduceSum`` over the spatial axes divided by their size."""
    top_x = node.input(0)
    if node.output.quant is None or top_x.type.shape is None:
        return False
    x = ctx.as_int8(top_x)
    if x is None:
        return False
    shape = top_x.type.shape
    axes = tuple(range(2, len(shape)))
    emit_scaled_sum(
        ctx,
        node,
        x,
        axes,
        True,
        max(numel(shape[2:]), 1),
        bitwidth=POOL_MULTIPLIER_BITS,
    )
    return True
