"""INT8 matrix product: exact integer accumulation, then one 32-bit re-scale.

BM1684X MatMul: ``acc = (a - zp_a) @ (b - zp_b) + bias_q`` in
integers (numpy ``matmul`` semantics: batch broadcasting, 1-D promotion), then
``y = RightShiftRound(acc · multiplier, shift, HALF_UP) + zp_out``, the fused
ReLU clamps at ``zp_out`` and the result saturates to int8/uint8. Either operand
may be a weight; the multiplier and shift are weights too, one pair for the
whole tensor or one per output column (the result's last axis), so the kernel
reads nothing but its inputs, attributes and the values' quantized types.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.ir.node import Node
from sophonc.quant import RoundMode, apply_multiplier_shift, as_int64
from sophonc.quant.exact import exact_matmul
from sophonc.quant.rounding import Int64Array
from sophonc_backend_bm1684x.program.kernels.requant_tail import finish
from sophonc_backend_bm1684x.program.registry import Array, chip_op


def centred_operand(node: Node, index: int, codes: Array) -> Int64Array:
    """Input ``index`` minus its zero point (a weight without a quantized type: 0)."""
    q = node.input(index).quant
    zp = 0 if q is None else q.zero_point[0]
    return as_int64(codes) - zp


def column_parameter(param: Array) -> Int64Array:
    """A multiplier or shift as it broadcasts onto the result: a scalar when there
    is one for the whole tensor (so a 0-d result stays 0-d), else along the last axis."""
    values = as_int64(param)
    return values.reshape(()) if values.size == 1 else values.reshape(-1)


@chip_op("MatMul")
def matmul_int8(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Inputs: a, b (i8/u8), bias (i32, optional), multiplier and shift (i32[1] or i32[N])."""
    a, b, bias, multiplier, shift = inputs
    assert a is not None and b is not None and multiplier is not None and shift is not None
    acc = exact_matmul(centred_operand(node, 0, a), centred_operand(node, 1, b))
    if bias is not None:
        # a one-element bias is a scalar: it never enlarges the result (core MatMul)
        codes = as_int64(bias)
        acc = acc + (codes.reshape(()) if codes.size == 1 else codes)
    y = apply_multiplier_shift(
        acc, column_parameter(multiplier), column_parameter(shift), RoundMode.HALF_UP
    )
    return [finish(node, y)]
