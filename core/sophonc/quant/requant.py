"""Applying multiplier/shift requantization to integer accumulators.

TPU-MLIR's ``applyMultiplierAndRShift`` in its three flavours: the exact
integer BM168x form, the float-math CV18xx eltwise form and the TFLite-style
doubling-high-multiply (QDM) CV18xx conv tail. The parameters come from
:mod:`sophonc.quant.multipliers`. Results are int64 and not yet saturated: callers add
the output zero point and then call :func:`sophonc.quant.rounding.saturate`.

Overflow: products ``v·m`` are formed in int64 and an OverflowError is raised when
``max|v| · max|m| >= 2^63`` could overflow. Every TPU-MLIR use is well inside that:
``|v| < 2^31`` (int32 accumulators) and ``|m| < 2^31`` give ``|v·m| < 2^62``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sophonc.quant.rounding import (
    Int64Array,
    RoundMode,
    as_int64,
    right_shift_round,
    round_to_int,
)

_INT32_MIN = -(2**31)
_INT32_MAX = 2**31 - 1


def along_axis(param: npt.ArrayLike, ndim: int, axis: int | None) -> npt.NDArray[np.generic]:
    """Reshape a per-channel 1-D parameter so it broadcasts along ``axis`` of an ndim array.

    With ``axis=None`` (or a scalar parameter) ordinary numpy broadcasting applies.
    """
    arr = np.asarray(param)
    if axis is None or arr.ndim == 0:
        return arr
    if arr.ndim != 1:
        raise ValueError(f"per-channel parameter must be 1-D, got shape {arr.shape}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} out of range for a {ndim}-D tensor")
    shape = [1] * ndim
    shape[axis % ndim] = arr.shape[0]
    return arr.reshape(shape)


def _max_abs(a: Int64Array) -> int:
    """Largest magnitude in ``a`` as a Python int (no int64 overflow at INT64_MIN)."""
    if a.size == 0:
        return 0
    return max(abs(int(a.min())), abs(int(a.max())))


def checked_product(v: Int64Array, m: Int64Array) -> Int64Array:
    """``v * m`` in int64, refusing inputs whose product could leave int64."""
    if _max_abs(v) * _max_abs(m) >= 2**63:
        raise OverflowError(
            "requantization product may overflow int64: keep |v|·|multiplier| < 2^63 "
            "(e.g. both below 2^31)"
        )
    product: Int64Array = v * m
    return product


def apply_multiplier_shift(
    v: npt.ArrayLike,
    multiplier: npt.ArrayLike,
    shift: npt.ArrayLike,
    mode: RoundMode | str = RoundMode.HALF_UP,
    axis: int | None = None,
) -> Int64Array:
    """BM168x requant: ``RightShiftRound(v · multiplier, shift, mode)``, exact (§3.1).

    ``multiplier``/``shift`` are scalars or per-channel 1-D arrays laid along ``axis``
    of ``v``. HALF_UP is TPU-MLIR's default. With ``multiplier = 1`` this is the
    shift-only (``OnlyShift``) requant of BM1684.
    """
    vi = as_int64(v)
    m = as_int64(along_axis(multiplier, vi.ndim, axis))
    s = as_int64(along_axis(shift, vi.ndim, axis))
    return right_shift_round(checked_product(vi, m), s, mode)


def apply_multiplier_shift_cv18xx(
    v: npt.ArrayLike,
    multiplier: npt.ArrayLike,
    shift: npt.ArrayLike,
    mode: RoundMode | str = RoundMode.HALF_UP,
    axis: int | None = None,
) -> Int64Array:
    """CV18xx multiplier/shift: ``to_int((float)v · m / 2^s, mode)`` in float32 (§3.1).

    TPU-MLIR computes this in C ``float``: ``v`` and ``m`` are rounded to float32 and
    their product is rounded to float32 before the (exact) division by ``2^s``. So the
    result is only integer-exact while ``|v·m| < 2^24``; beyond that this reproduces
    the float32 rounding rather than the exact quotient, on purpose.
    """
    mode = RoundMode(mode)
    vi = as_int64(v)
    m = as_int64(along_axis(multiplier, vi.ndim, axis))
    s = as_int64(along_axis(shift, vi.ndim, axis))
    product = vi.astype(np.float32) * m.astype(np.float32)
    scaled = np.ldexp(product, -s)
    return round_to_int(scaled, mode)


def apply_qdm(
    v: npt.ArrayLike,
    multiplier: npt.ArrayLike,
    rshift: npt.ArrayLike,
    mode: RoundMode | str = RoundMode.HALF_AWAY_FROM_ZERO,
    axis: int | None = None,
) -> Int64Array:
    """CV18xx conv tail, TFLite style: doubling high multiply, then a rounding shift.

    Facts §3.1/§3.6: a negative ``rshift`` first left-shifts ``v`` by ``-rshift``;
    then ``t = RightShiftRound(v·M31, 31, HALF_UP)`` clamped to int32, and the result
    is ``RightShiftRound(t, max(rshift, 0), mode)``. The CV18xx conv uses
    HALF_AWAY_FROM_ZERO for that last shift, hence the default. ``multiplier`` is the
    M31 of :func:`sophonc.quant.multipliers.qdm_multiplier`.
    """
    vi = as_int64(v)
    m = as_int64(along_axis(multiplier, vi.ndim, axis))
    r = as_int64(along_axis(rshift, vi.ndim, axis))
    pre = right_shift_round(vi, np.minimum(r, 0), RoundMode.DOWN)  # exact left shift
    high = right_shift_round(checked_product(pre, m), 31, RoundMode.HALF_UP)
    clamped = np.clip(high, _INT32_MIN, _INT32_MAX)
    return right_shift_round(clamped, np.maximum(r, 0), mode)
