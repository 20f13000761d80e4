"""Conversions between storage forms: quantize, dequantize, float rounding, requant."""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.errors import IRError
from sophonc.ir.node import Node
from sophonc.quant import RoundMode, apply_multiplier_shift, as_int64, saturate
from sophonc_backend_bm1684x.program.registry import Array, chip_op
from sophonc_backend_bm1684x.program.storage import dequantize, quantize, round_float


@chip_op("Cast")
def cast(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Between a float and a quantized form, or between float widths.

    Float → quantized: ``sat(round_half_away(x·(1/scale)) + zp)``; quantized →
    float: ``(q - zp)·scale`` then rounded to the output's float type; float →
    float: round to nearest even (f32 → f16/bf16) or exact widening.
    """
    x = inputs[0]
    assert x is not None
    src = node.input(0)
    dst = node.output
    if src.quant is None and dst.quant is not None:
        return [quantize(round_float(x, "f32"), dst.quant)]
    if src.quant is not None and dst.quant is None:
        return [round_float(dequantize(x, src.quant), dst.dtype)]
    if src.quant is None and dst.quant is None:
        return [round_float(round_float(x, "f32"), dst.dtype)]
    raise IRError(f"Cast '{node.name}' between two quantized forms: use Requant")


@chip_op("Requant")
def requant(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Re-scale int8 ``q``: ``sat(RSR((q - in_zp)·m, s, HALF_UP) + out_zp)``.

    TPU-MLIR's ``tpu.RequantInt`` in MultiplierShift mode with an 8-bit
    multiplier (used where Concat inputs differ in scale).
    """
    x = inputs[0]
    assert x is not None
    src_q = node.input(0).quant
    dst_q = node.output.quant
    if src_q is None or dst_q is None:
        raise IRError(f"Requant '{node.name}' needs quantized input and output")
    centered = as_int64(x) - src_q.zero_point[0]
    y = apply_multiplier_shift(
        centered, node.int("multiplier"), node.int("shift"), RoundMode.HALF_UP
    )
    return [saturate(y + dst_q.zero_point[0], dst_q.storage)]
