"""256-entry lookup tables for INT8 activations (Sigmoid, SiLU, GELU, Tanh, Exp …).

On the TPU a quantized unary activation is a table lookup indexed by the raw input
byte, so its whole integer behaviour is fixed by the 256 entries built here
(TPU-MLIR's ``create_lookup_table``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from sophonc.quant.rounding import RoundMode, as_int64, round_to_int, saturate

FloatFn = Callable[[npt.NDArray[np.float64]], npt.ArrayLike]

#: Number of entries of a byte-indexed table.
LUT_SIZE = 256


def lut_inputs(signed: bool) -> npt.NDArray[np.int64]:
    """The quantized input value that each raw byte 0…255 stands for.

    Unsigned: the byte itself. Signed: bytes 128…255 are the negatives -128…-1
    (two's complement), i.e. the inverse of ``idx = q < 0 ? 256 + q : q``.
    """
    raw = np.arange(LUT_SIZE, dtype=np.int64)
    return np.where(raw >= 128, raw - 256, raw) if signed else raw


def build_lut(
    fn: FloatFn,
    in_scale: float,
    in_zero_point: int,
    in_signed: bool,
    out_scale: float,
    out_zero_point: int,
    out_signed: bool,
    mode: RoundMode | str = RoundMode.HALF_AWAY_FROM_ZERO,
) -> npt.NDArray[np.integer[Any]]:
    """The table ``T[idx] = sat(round(fn((q - in_zp)·in_scale) / out_scale + out_zp))``.

    All in float64 as TPU-MLIR does (double math), rounded by ``mode`` (half away from
    zero by default, C ``std::round``) and saturated to the output storage: an int8
    table if ``out_signed`` else uint8. ``fn`` must work elementwise on a float64
    array (numpy ufuncs do). ``q`` is the value of raw byte ``idx`` per
    :func:`lut_inputs`.
    """
    q = lut_inputs(in_signed)
    x = (q - in_zero_point).astype(np.float64) * float(in_scale)
    y = np.asarray(fn(x), dtype=np.float64)
    if y.shape != x.shape:
        raise ValueError(f"LUT function must be elementwise: got shape {y.shape} for (256,)")
    codes = round_to_int(y / float(out_scale) + out_zero_point, mode)
    return saturate(codes, "i8" if out_signed else "u8")


def lut_index(q: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The raw byte ``q < 0 ? 256 + q : q`` of int8 or uint8 values (given as any ints)."""
    qi = as_int64(q)
    if qi.size and (int(qi.min()) < -128 or int(qi.max()) > 255):
        raise ValueError("LUT input must be int8 or uint8 values (-128…255)")
    index: npt.NDArray[np.int64] = qi & 0xFF
    return index


def apply_lut(
    q: npt.ArrayLike, table: npt.NDArray[np.integer[Any]]
) -> npt.NDArray[np.integer[Any]]:
    """Look every element of ``q`` up in a 256-entry ``table`` by its raw byte."""
    if table.shape != (LUT_SIZE,):
        raise ValueError(f"LUT must have shape ({LUT_SIZE},), got {table.shape}")
    result: npt.NDArray[np.integer[Any]] = table[lut_index(q)]
    return result
