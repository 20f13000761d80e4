"""Rounding modes, float→int rounding, saturation and rounding right shifts.

Every integer kernel of every chip backend ends in one of these functions, so they
reproduce TPU-MLIR's helpers exactly and work on whole numpy arrays.
Integers are carried as ``int64`` throughout; narrowing to the storage type happens
only in :func:`saturate`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

Int64Array = npt.NDArray[np.int64]

#: Floats are clipped to ±2^62 before conversion so that ±inf and huge values become
#: int64 numbers that every later clamp still saturates correctly.
_FLOAT_CLIP = float(2**62)

#: Shifts are limited to what an int64 shift can express without undefined behaviour.
MAX_SHIFT = 63


class RoundMode(StrEnum):
    """TPU-MLIR's rounding modes; the value is the spelling used in IR attributes."""

    HALF_AWAY_FROM_ZERO = "half_away_from_zero"
    HALF_UP = "half_up"
    HALF_DOWN = "half_down"
    HALF_TO_EVEN = "half_to_even"
    DOWN = "down"
    UP = "up"
    TOWARDS_ZERO = "towards_zero"


#: IR dtype name -> (numpy type, smallest value, largest value) for :func:`saturate`.
_STORAGE: dict[str, tuple[type[np.integer[Any]], int, int]] = {
    "i8": (np.int8, -(2**7), 2**7 - 1),
    "u8": (np.uint8, 0, 2**8 - 1),
    "i16": (np.int16, -(2**15), 2**15 - 1),
    "u16": (np.uint16, 0, 2**16 - 1),
    "i32": (np.int32, -(2**31), 2**31 - 1),
}


def as_int64(x: npt.ArrayLike) -> Int64Array:
    """``x`` as an int64 array; refuses floats, which must be rounded explicitly first.

    Silent float truncation is the classic source of off-by-one requant errors, so a
    float argument is a programming error here, not something to convert.
    """
    arr = np.asarray(x)
    if arr.dtype.kind not in "biu":
        raise TypeError(f"expected an integer array, got dtype {arr.dtype}; round it first")
    if arr.dtype == np.uint64 and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise OverflowError("uint64 value does not fit in int64")
    return arr.astype(np.int64)


def _half_to_even_float32(x: npt.NDArray[np.float64]) -> Int64Array:
    """HALF_TO_EVEN as TPU-MLIR does it: ``modf`` on ``|v|`` held in a C ``float``.

    The magnitude is first rounded to float32 (round-to-nearest-even), so a double such
    as 2.5000000001 becomes 2.5 and then rounds to 2: this is TPU-MLIR's behaviour and
    differs from an exact half-to-even on the double.
    """
    mag = np.abs(x).astype(np.float32)
    whole = np.trunc(mag)
    frac = mag - whole  # exact: the fractional part of a float32 is a float32
    odd = np.fmod(whole, np.float32(2)) == 1
    bump = (frac > 0.5) | ((frac == 0.5) & odd)
    magnitude = whole.astype(np.int64) + bump.astype(np.int64)
    result: Int64Array = np.where(x < 0, -magnitude, magnitude)
    return result


def round_to_int(
    x: npt.ArrayLike, mode: RoundMode | str = RoundMode.HALF_AWAY_FROM_ZERO
) -> Int64Array:
    """Round floats to int64 with TPU-MLIR's ``to_int`` semantics.

    * HALF_AWAY_FROM_ZERO: C ``std::round`` (the default, as in TPU-MLIR);
    * HALF_UP: ``floor(v + 0.5)``; HALF_DOWN: ``ceil(v - 0.5)``;
    * HALF_TO_EVEN: on ``|v|`` rounded to float32 (see :func:`_half_to_even_float32`);
    * DOWN = floor, UP = ceil, TOWARDS_ZERO = trunc.

    All modes except HALF_TO_EVEN are computed exactly on the float64 value: the
    fractional part ``v - floor(v)`` is exact in binary floating point, so ties are
    recognised without the ``v + 0.5`` addition that a double could round. This equals
    TPU-MLIR's result for every float32 input (where ``v + 0.5`` in double is exact).
    Integer inputs are returned unchanged; values beyond ±2^62 (and ±inf) clip to ±2^62
    so that a later :func:`saturate` gives the right end of the range. NaN is rejected:
    C leaves its conversion undefined.
    """
    mode = RoundMode(mode)
    arr = np.asarray(x)
    if arr.dtype.kind in "biu":
        return as_int64(arr)
    v = np.clip(arr.astype(np.float64), -_FLOAT_CLIP, _FLOAT_CLIP)
    if np.isnan(v).any():
        raise ValueError("cannot round NaN to an integer")
    if mode is RoundMode.HALF_TO_EVEN:
        return _half_to_even_float32(v)
    lo = np.floor(v)
    above = v - lo  # in [0, 1); exact
    if mode is RoundMode.DOWN:
        out = lo
    elif mode is RoundMode.UP:
        out = np.ceil(v)
    elif mode is RoundMode.TOWARDS_ZERO:
        out = np.trunc(v)
    elif mode is RoundMode.HALF_UP:
        out = lo + (above >= 0.5)
    elif mode is RoundMode.HALF_DOWN:
        out = lo + (above > 0.5)
    else:  # HALF_AWAY_FROM_ZERO: ties go up for v >= 0 and down for v < 0
        out = lo + ((above > 0.5) | ((above == 0.5) & (v >= 0)))
    return out.astype(np.int64)


def saturate(x: npt.ArrayLike, dtype_name: str) -> npt.NDArray[np.integer[Any]]:
    """Clamp integers to the range of an IR storage type and cast to it.

    ``dtype_name`` is an IR dtype name: i8, u8, i16, u16 or i32. This is the final
    step of every quantized kernel (TPU-MLIR's ``saturate``/``to_int8``).
    """
    try:
        np_type, lo, hi = _STORAGE[dtype_name]
    except KeyError:
        raise ValueError(
            f"cannot saturate to '{dtype_name}': expected one of {', '.join(_STORAGE)}"
        ) from None
    return np.clip(as_int64(x), lo, hi).astype(np_type)


def to_int8(
    x: npt.ArrayLike, mode: RoundMode | str = RoundMode.HALF_AWAY_FROM_ZERO
) -> npt.NDArray[np.int8]:
    """Round then clamp to [-128, 127]: TPU-MLIR's ``to_int8``."""
    return np.clip(round_to_int(x, mode), -128, 127).astype(np.int8)


def to_uint8(
    x: npt.ArrayLike, mode: RoundMode | str = RoundMode.HALF_AWAY_FROM_ZERO
) -> npt.NDArray[np.uint8]:
    """Round then clamp to [0, 255]: TPU-MLIR's ``to_uint8``."""
    return np.clip(round_to_int(x, mode), 0, 255).astype(np.uint8)


def _left_shift(x: Int64Array, amount: Int64Array) -> Int64Array:
    """``x * 2^amount`` for amount >= 0, refusing results that leave int64."""
    out = np.left_shift(x, amount)
    if not np.array_equal(np.right_shift(out, amount), x):
        raise OverflowError("left shift overflows int64")
    return out


def _round_dropped(x: Int64Array, shift: Int64Array, mode: RoundMode) -> Int64Array:
    """``x / 2^shift`` rounded by ``mode`` for 1 <= shift <= 63, exactly.

    ``x >> s`` is the floor; ``rem = x - floor·2^s`` in ``[0, 2^s)`` are the dropped
    bits, compared with ``half = 2^(s-1)`` to decide whether to add one.
    """
    floor = np.right_shift(x, shift)
    rem = x & ~np.left_shift(np.int64(-1), shift)
    half = np.left_shift(np.int64(1), shift - 1)
    if mode is RoundMode.DOWN:
        bump = np.zeros(rem.shape, dtype=bool)
    elif mode is RoundMode.UP:
        bump = rem != 0
    elif mode is RoundMode.TOWARDS_ZERO:
        bump = (rem != 0) & (x < 0)
    elif mode is RoundMode.HALF_UP:
        bump = rem >= half
    elif mode is RoundMode.HALF_DOWN:
        bump = rem > half
    elif mode is RoundMode.HALF_TO_EVEN:
        bump = (rem > half) | ((rem == half) & ((floor & 1) == 1))
    else:  # HALF_AWAY_FROM_ZERO
        bump = (rem > half) | ((rem == half) & (x >= 0))
    result: Int64Array = floor + bump.astype(np.int64)
    return result


def _fast_right_shift(x: Int64Array, shift: Int64Array, mode: RoundMode) -> Int64Array | None:
    """The common requant case without the general machinery, or None.

    With every shift in ``1..62`` and ``|x| < 2^62``: DOWN is the arithmetic shift
    and HALF_UP is ``(x + 2^(s-1)) >> s`` (floor of ``x/2^s + 1/2``, negatives too),
    which cannot overflow; both broadcast per-channel shifts without copying.
    """
    if not shift.size or x.size == 0 or mode not in (RoundMode.HALF_UP, RoundMode.DOWN):
        return None
    if int(shift.min()) < 1 or int(shift.max()) > 62:
        return None
    if mode is RoundMode.DOWN:
        down: Int64Array = np.right_shift(x, shift)
        return down
    if max(abs(int(x.min())), abs(int(x.max()))) >= 1 << 62:
        return None
    up: Int64Array = np.right_shift(x + np.left_shift(np.int64(1), shift - 1), shift)
    return up


def right_shift_round(
    x: npt.ArrayLike, shift: npt.ArrayLike, mode: RoundMode | str = RoundMode.HALF_UP
) -> Int64Array:
    """TPU-MLIR's ``RightShiftRound``: ``x / 2^shift`` rounded by ``mode``, exactly.

    Works on int64 with ``shift`` a scalar or an array broadcast against ``x``;
    ``shift <= 0`` is an exact left shift by ``-shift`` (an OverflowError if the result
    leaves int64), ``|shift| <= 63``. HALF_UP is ``floor(x/2^s + 1/2)`` for negative
    ``x`` too (``-5 >> 1`` → -2), DOWN is the arithmetic shift (floor); the other modes
    are as in :func:`round_to_int` but computed on the exact quotient.
    """
    mode = RoundMode(mode)
    xi = as_int64(x)
    si = as_int64(shift)
    if si.size and (int(si.min()) < -MAX_SHIFT or int(si.max()) > MAX_SHIFT):
        raise ValueError(f"shift out of range [-{MAX_SHIFT}, {MAX_SHIFT}]")
    fast = _fast_right_shift(xi, si, mode)
    if fast is not None:
        return fast
    xi, si = np.broadcast_arrays(xi, si)
    right = _round_dropped(xi, np.maximum(si, 1), mode)
    left = _left_shift(np.where(si <= 0, xi, 0), np.maximum(-si, 0))
    return np.where(si > 0, right, left)
