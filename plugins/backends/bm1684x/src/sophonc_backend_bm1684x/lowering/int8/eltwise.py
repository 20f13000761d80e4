"""Add, Sub and Mul in INT8.

Add/Sub: each operand re-scaled to the output scale with an 8-bit positive
multiplier and a shift (``scale_and_shift_positive(in_scale/out_scale)``), the
sign of Sub's second operand on its multiplier. Mul: the exact integer product,
re-scaled once by an 8-bit multiplier, ``scale_and_shift(s0·s1/s_out, 8)``, as
TPU-MLIR lowers it (a squeeze-excite gate of the PP-OCR classifier gets
71 >> 14 for a ratio of 0.0043587: 0.6% low, and the chip computes that). A constant operand is
quantized on its own (``abs_max/127``). A ratio no 8-bit multiplier can hold
declines (the node runs in float).
"""

from __future__ import annotations

from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.quant import scale_and_shift, scale_and_shift_positive
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import (
    const_quant,
    output_form,
    relu_attrs,
    scale_of,
)
from sophonc_backend_bm1684x.lowering.int8.lut import lower_lut, real_function
from sophonc_backend_bm1684x.lowering.rules import int8_rule


def _operands(ctx: LoweringContext, node: Node) -> list[Value] | None:
    operands: list[Value] = []
    for v in node.inputs:
        if v is None:
            return None
        if v.const is not None:
            operands.append(ctx.as_quant(v, const_quant(v.const)))
            continue
        q = ctx.as_int8(v)
        if q is None:
            return None
        operands.append(q)
    return operands


@int8_rule("Add", "Sub")
def lower_add(ctx: LoweringContext, node: Node) -> bool:
    """Per-operand multiplier/shift, summed (a table when one operand is a scalar)."""
    if real_function(node) is not None and lower_lut(ctx, node):
        return True
    out = node.output
    if out.quant is None or len(node.inputs) != 2:
        return False
    operands = _operands(ctx, node)
    if operands is None:
        return False
    out_scale = out.quant.scale[0]
    multipliers: list[int] = []
    shifts: list[int] = []
    for i, x in enumerate(operands):
        try:
            m, s = scale_and_shift_positive(scale_of(x) / out_scale, 8)
        except ValueError:
            return False
        sign = -1 if (node.op_type == "Sub" and i == 1) else 1
        multipliers.append(sign * int(m))
        shifts.append(int(s))
    attrs: dict[str, object] = {"multipliers": tuple(multipliers), "shifts": tuple(shifts)}
    attrs.update(relu_attrs(node, out.quant))
    (y,) = ctx.emit("Add", operands, attrs, [output_form(out)])
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True


@int8_rule("Div", "Pow", "Max", "Min")
def lower_scalar_function(ctx: LoweringContext, node: Node) -> bool:
    """A binary op with a scalar constant operand: a table (else float)."""
    return real_function(node) is not None and lower_lut(ctx, node)


@int8_rule("Mul")
def lower_mul(ctx: LoweringContext, node: Node) -> bool:
    """Exact product, one 8-bit multiplier/shift (a table when one operand is a scalar)."""
    if real_function(node) is not None and lower_lut(ctx, node):
        return True
    out = node.output
    if out.quant is None or len(node.inputs) != 2:
        return False
    operands = _operands(ctx, node)
    if operands is None:
        return False
    ratio = scale_of(operands[0]) * scale_of(operands[1]) / out.quant.scale[0]
    m, s = scale_and_shift(ratio, 8)
    attrs: dict[str, object] = {"multiplier": int(m), "shift": int(s)}
    attrs.update(relu_attrs(node, out.quant))
    (y,) = ctx.emit("Mul", operands, attrs, [output_form(out)])
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True
