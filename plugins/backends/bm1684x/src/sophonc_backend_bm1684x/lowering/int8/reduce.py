"""ReduceMean and ReduceSum in INT8: an exact integer sum, one 32-bit requant.

The sum over ``axes`` of the centred codes is exact in int64; the mean's
divisor is folded into the requant factor, ``in_scale / (out_scale · count)``
(``count = 1`` for ReduceSum), searched by ``scale_and_shift`` with a 32-bit
multiplier and applied HALF_UP as the other BM1684X integer ops. The chip op is
``ReduceSum``; GlobalAveragePool lowers to it too (see ``pool.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.ops.shape_rules import axes_attr, numel
from sophonc.quant import scale_and_shift
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import output_form, relu_attrs, scale_of
from sophonc_backend_bm1684x.lowering.rules import int8_rule


def emit_scaled_sum(
    ctx: LoweringContext,
    node: Node,
    x: Value,
    axes: Sequence[int],
    keepdims: bool,
    count: int,
    *,
    bitwidth: int = 32,
) -> None:
    """A ``ReduceSum`` program node computing ``sum(x over axes) / count`` for ``node``,
    requantized with a ``bitwidth``-bit multiplier."""
    out = node.output
    assert out.quant is not None
    multiplier, shift = scale_and_shift(scale_of(x) / (out.quant.scale[0] * count), bitwidth)
    attrs: dict[str, object] = {
        "axes": tuple(int(a) for a in axes),
        "keepdims": int(keepdims),
        "multiplier": int(multiplier),
        "shift": int(shift),
    }
    attrs.update(relu_attrs(node, out.quant))
    (y,) = ctx.emit("ReduceSum", [x], attrs, [output_form(out)])
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)


@int8_rule("ReduceMean", "ReduceSum")
def lower_reduce(ctx: LoweringContext, node: Node) -> bool:
    """Mean (divisor: the number of reduced elements) or plain sum over ``axes``."""
    top_x = node.input(0)
    if node.output.quant is None or top_x.type.shape is None:
        return False
    x = ctx.as_int8(top_x)
    if x is None:
        return False
    shape = top_x.type.shape
    axes = axes_attr(node, len(shape))
    count = numel(shape[a] for a in axes) if node.op_type == "ReduceMean" else 1
    emit_scaled_sum(ctx, node, x, axes, bool(node.int("keepdims", 1)), max(count, 1))
    return True
