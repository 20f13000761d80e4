"""INT8 convolution: exact integer accumulation, per-channel multiplier and shift.

BM1684X: ``acc = Σ (x - zp_in)·w + bias_q`` in integers, then
``y = RightShiftRound(acc · multiplier[c], shift[c], HALF_UP) + zp_out``, the
fused ReLU clamps at ``zp_out``, and the result saturates to int8/uint8.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.ir.node import Node
from sophonc.quant import RoundMode, apply_multiplier_shift, as_int64
from sophonc.quant.exact import exact_conv
from sophonc_backend_bm1684x.program.kernels.requant_tail import finish
from sophonc_backend_bm1684x.program.registry import Array, chip_op
from sophonc_backend_bm1684x.program.storage import per_tensor


def _conv_int8(op_type: str, node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    x, w, bias, multiplier, shift = inputs
    assert x is not None and w is not None and multiplier is not None and shift is not None
    _, in_zp = per_tensor(node.input(0))
    acc = exact_conv(op_type, as_int64(x) - in_zp, w, node.attrs)
    channel_shape = (1, -1) + (1,) * (acc.ndim - 2)
    if bias is not None:
        acc = acc + as_int64(bias).reshape(channel_shape)
    y = apply_multiplier_shift(acc, multiplier, shift, RoundMode.HALF_UP, axis=1)
    return [finish(node, y)]


@chip_op("Conv")
def conv_int8(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Inputs: x (i8/u8), w (i8), bias (i32, optional), multiplier (i32[C]), shift (i32[C])."""
    return _conv_int8("Conv", node, inputs)


@chip_op("ConvTranspose")
def conv_transpose_int8(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """As Conv, for a transposed convolution (weight ``(C_in, C_out/group, k…)``)."""
    return _conv_int8("ConvTranspose", node, inputs)
