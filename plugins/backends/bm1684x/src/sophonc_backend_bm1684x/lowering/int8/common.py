"""What the INT8 rules share: output forms, requant parameters, relu bounds."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from sophonc.ir.node import Node
from sophonc.ir.types import QuantType, TensorType
from sophonc.ir.value import Value
from sophonc.quant import RoundMode, round_to_int, scale_and_shift, symmetric_scale
from sophonc_backend_bm1684x.program.storage import per_tensor

#: Attributes of the fused activation that the program keeps.
RELU_ATTRS = ("do_relu",)


def output_form(value: Value) -> tuple[str, TensorType, QuantType | None]:
    """(name, storage type, quant) of an INT8 node's output: its calibrated form."""
    q = value.quant
    assert q is not None
    return value.name, value.type.with_dtype(q.storage), q


def relu_attrs(node: Node, out_quant: QuantType) -> dict[str, object]:
    """``do_relu`` and the quantized upper limit of a fused ReLU."""
    if not node.attrs.get("do_relu"):
        return {}
    attrs: dict[str, object] = {"do_relu": True}
    limit = float(node.attrs.get("relu_limit", -1.0))  # type: ignore[arg-type]
    if limit > 0 and math.isfinite(limit):
        scale, zp = out_quant.scale[0], out_quant.zero_point[0]
        upper = int(round_to_int(np.asarray(limit / scale), RoundMode.HALF_AWAY_FROM_ZERO)) + zp
        attrs["relu_upper"] = upper
    return attrs


def per_channel_requant(
    scales: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
    """32-bit multiplier and shift of each channel's float re-scale."""
    m, s = scale_and_shift(np.asarray(scales, dtype=np.float32), 32)
    return np.asarray(m, dtype=np.int32), np.asarray(s, dtype=np.int32)


def const_quant(data: npt.ArrayLike) -> QuantType:
    """Symmetric per-tensor quantization of a constant operand: ``abs_max/127``
    (``/255`` with unsigned storage when it has no negative value)."""
    arr = np.asarray(data, dtype=np.float64)
    abs_max = float(np.abs(arr).max()) if arr.size else 0.0
    signed = bool(arr.size and arr.min() < 0)
    scale = symmetric_scale(max(abs_max, 1e-5), signed)
    if signed:
        return QuantType("i8", (scale,), (0,), qmin=-128, qmax=127)
    return QuantType("u8", (scale,), (0,), qmin=0, qmax=255)


def scale_of(value: Value) -> float:
    """The scale of a per-tensor quantized program value."""
    return per_tensor(value)[0]
