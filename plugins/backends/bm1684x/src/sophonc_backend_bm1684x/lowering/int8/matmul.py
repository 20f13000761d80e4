"""MatMul in INT8: exact integer product, int32 bias, 32-bit requant.

Facts §3.3, with one deliberate difference. A constant operand is quantized as
TPU-MLIR's MatMul weight: ``fsign = min(W) < 0 or has_bias``,
``scale = max(max|W| / (127 if fsign else 255), 1e-5)``,
``Wq = round_half_away(W / scale)``; the bias becomes
``round(bias / (s_a·s_b))`` in int32 and the requant factor ``s_a·s_b/s_out``
(``scale_and_shift``, 32 bits) is applied HALF_UP.

The difference: a constant right operand of two or more axes (a Linear layer's
weight) gets one scale per output column, as TPU-MLIR does only with
``--matmul_perchannel`` (its default is one scale per tensor). Measured on
PP-OCRv4 rec, each of its nine weight MatMuls run alone in INT8 against F32:
``1 - cosine`` drops by 10–70 % on every layer (e.g. 0.998953 → 0.999366),
at the cost of one multiplier/shift per column instead of one. Per-column
weights carry no quantized type (their scales live only in the multipliers).

Two activations: the product of their centred codes with one multiplier/shift.
A constant left operand (``W @ x``, F16 in TPU-MLIR) runs INT8 too, per tensor:
``W @ x = (xᵀ @ Wᵀ)ᵀ`` is a weight MatMul, and a per-tensor scale does not care
which side the weight is on. A bias that is not a constant, an operand or output
without calibration, or two constant operands decline (float fallback).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from sophonc.ir.node import Node
from sophonc.ir.types import QuantType
from sophonc.ir.value import Value
from sophonc.quant import quantize_bias, quantize_weight_per_channel, scale_and_shift
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import output_form, relu_attrs, scale_of
from sophonc_backend_bm1684x.lowering.rules import int8_rule

#: Program value name suffix of a quantized constant operand, by operand index.
OPERAND_SUFFIX = ("lhs", "rhs")


class MatMulWeight(NamedTuple):
    """A quantized constant operand: codes, its scale(s), and its per-tensor type
    (None when the scales are per column)."""

    codes: npt.NDArray[Any]
    scales: npt.NDArray[np.float64]
    quant: QuantType | None


def quantize_matmul_weight(data: npt.ArrayLike, has_bias: bool, per_column: bool) -> MatMulWeight:
    """TPU-MLIR's MatMul weight rule, over the whole tensor or per last-axis column.

    Codes are int8, or uint8 when every weight is >= 0 and there is no bias.
    """
    w = np.asarray(data, dtype=np.float64)
    if per_column:
        qw = quantize_weight_per_channel(w, axis=-1, has_bias=has_bias)
        return MatMulWeight(qw.values, qw.scales, None)
    qw = quantize_weight_per_channel(w.reshape(1, -1), axis=0, has_bias=has_bias)
    scale = float(qw.scales[0])
    if qw.signed:
        quant = QuantType("i8", (scale,), (0,), qmin=-128, qmax=127)
    else:
        quant = QuantType("u8", (scale,), (0,), qmin=0, qmax=255)
    return MatMulWeight(qw.values.reshape(w.shape), qw.scales, quant)


def _calibrated(ctx: LoweringContext, top: Value) -> bool:
    """Whether an operand is a constant or an activation with a quantized form."""
    return top.const is not None or top.quant is not None or ctx.natural(top).quant is not None


def _operand(
    ctx: LoweringContext, node: Node, index: int, has_bias: bool
) -> tuple[Value, npt.NDArray[np.float64]]:
    """The program operand ``index`` and its scale(s)."""
    top = node.input(index)
    if top.const is None:
        value = ctx.as_int8(top)
        assert value is not None
        return value, np.array([scale_of(value)])
    per_column = index == 1 and top.const.ndim >= 2
    weight = quantize_matmul_weight(top.const, has_bias, per_column)
    name = f"{node.output.name}_{OPERAND_SUFFIX[index]}"
    return ctx.weight(name, weight.codes, weight.quant), weight.scales


@int8_rule("MatMul")
def lower_matmul(ctx: LoweringContext, node: Node) -> bool:
    """``MatMul`` program node (see the module docstring)."""
    out = node.output
    a_top, b_top, bias_top = node.input(0), node.input(1), node.opt_input(2)
    if out.quant is None or (a_top.const is not None and b_top.const is not None):
        return False
    if bias_top is not None and bias_top.const is None:
        return False
    if not (_calibrated(ctx, a_top) and _calibrated(ctx, b_top)):
        return False
    has_bias = bias_top is not None
    a, a_scale = _operand(ctx, node, 0, has_bias)
    b, b_scale = _operand(ctx, node, 1, has_bias)
    product_scale = a_scale * b_scale
    multipliers, shifts = scale_and_shift(product_scale / out.quant.scale[0], 32)
    name = out.name
    bias = None
    if bias_top is not None:
        assert bias_top.const is not None
        codes = quantize_bias(bias_top.const, product_scale, 1.0)
        bias = ctx.weight(f"{name}_bias", codes)
    (y,) = ctx.emit(
        "MatMul",
        [
            a,
            b,
            bias,
            ctx.weight(f"{name}_multiplier", multipliers.astype(np.int32)),
            ctx.weight(f"{name}_shift", shifts.astype(np.int32)),
        ],
        relu_attrs(node, out.quant),
        [output_form(out)],
    )
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True
