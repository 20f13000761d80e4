"""How program values are held: storage dtypes, quantization, and float rounding."""

from __future__ import annotations

from typing import Any

import ml_dtypes
import numpy as np
import numpy.typing as npt

from sophonc.errors import IRError
from sophonc.ir.types import QuantType, numpy_dtype
from sophonc.ir.value import Value
from sophonc.quant import RoundMode, f32_to_bf16, f32_to_f16, round_to_int, saturate

Array = npt.NDArray[Any]

FLOAT_DTYPES = ("f32", "f16", "bf16")


def per_tensor(value: Value) -> tuple[float, int]:
    """(scale, zero point) of a per-tensor quantized value."""
    q = value.quant
    if q is None or q.axis is not None:
        raise IRError(f"value '{value.name}' is not quantized per tensor")
    return q.scale[0], q.zero_point[0]


def round_float(x: npt.ArrayLike, dtype: str) -> Array:
    """``x`` rounded to the float ``dtype`` the chip stores (round to nearest even)."""
    if dtype == "f32":
        return np.asarray(x, dtype=np.float32)
    if dtype == "f16":
        return f32_to_f16(np.asarray(x, dtype=np.float32))
    if dtype == "bf16":
        return f32_to_bf16(np.asarray(x, dtype=np.float32))
    raise IRError(f"'{dtype}' is not a float storage type")


def to_storage(x: npt.ArrayLike, dtype: str) -> Array:
    """An array in the numpy dtype of IR dtype ``dtype`` (floats rounded to nearest)."""
    if dtype in FLOAT_DTYPES:
        return round_float(x, dtype)
    return np.asarray(x).astype(numpy_dtype(dtype), copy=False)


def quantize(x: npt.ArrayLike, quant: QuantType) -> Array:
    """BM168x input cast: ``sat(round_half_away(x · (float)(1/scale)) + zp)`` in f32."""
    inv = np.float32(1.0 / quant.scale[0])
    product = np.asarray(x, dtype=np.float32) * inv
    q = round_to_int(product, RoundMode.HALF_AWAY_FROM_ZERO) + quant.zero_point[0]
    return saturate(q, quant.storage)


def dequantize(q: npt.ArrayLike, quant: QuantType) -> npt.NDArray[np.float32]:
    """``(q - zp) · scale`` in f32."""
    diff = np.asarray(q, dtype=np.int32) - np.int32(quant.zero_point[0])
    return (diff.astype(np.float32) * np.float32(quant.scale[0])).astype(np.float32)


def to_float32(value: Value, data: Array) -> npt.NDArray[np.float32]:
    """What a stored value means, in f32: dequantized, widened, or converted."""
    if value.quant is not None:
        return dequantize(data, value.quant)
    return np.asarray(data, dtype=np.float32)


def is_float(dtype: str) -> bool:
    """Whether an IR dtype is a float storage type."""
    return dtype in FLOAT_DTYPES or dtype == "f64"


def bf16_view(x: Array) -> Array:
    """``x`` as ml_dtypes bfloat16 (for arrays read back from raw memory)."""
    return np.asarray(x).view(ml_dtypes.bfloat16)
