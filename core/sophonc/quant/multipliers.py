"""Deriving integer multiplier/shift pairs from float requantization scales.

A float rescale factor ``f`` (e.g. ``w_scale·in_scale/out_scale``) is replaced on the
chip by an integer multiply and a right shift. Each chip family searches for the pair
differently, and the search is part of the bit-exact contract, so each search is
reproduced here as TPU-MLIR performs it. The functions that apply the
pairs live in :mod:`sophonc.quant.requant`.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt

from sophonc.quant.rounding import Int64Array, RoundMode, round_to_int

Scalar = float | np.floating[Any]


def _shift_search(f: npt.ArrayLike, shifts: range, limit: int) -> tuple[Int64Array, Int64Array]:
    """The common search of ``get_scale_and_shift`` and its ``_positive`` variant.

    ``f`` is rounded to float32 first (TPU-MLIR passes the scale as a C ``float``). For
    each shift ``n`` in order: ``m = round(f·2^n)`` half away from zero in double,
    ``err = |m/2^n - f|`` stored as float32; the FIRST ``n`` whose error is strictly
    smaller than the best so far and whose ``|m| < limit`` wins. So an exactly
    representable scale keeps its shortest form, and later shifts with an error equal
    in float32 never replace an earlier one.
    """
    f64 = np.asarray(f, dtype=np.float32).astype(np.float64)
    if np.isnan(f64).any():
        raise ValueError("requantization scale is NaN")
    best_err = np.full(f64.shape, np.inf, dtype=np.float32)
    best_m = np.zeros(f64.shape, dtype=np.int64)
    best_n = np.zeros(f64.shape, dtype=np.int64)
    for n in shifts:
        m = round_to_int(np.ldexp(f64, n), RoundMode.HALF_AWAY_FROM_ZERO)
        valid = np.abs(m) < limit
        approx = np.ldexp(np.where(valid, m, 0).astype(np.float64), -n)
        err = np.abs(approx - f64).astype(np.float32)
        better = valid & (err < best_err)
        best_err = np.where(better, err, best_err)
        best_m = np.where(better, m, best_m)
        best_n = np.where(better, n, best_n)
    if not np.isfinite(best_err).all():
        raise ValueError(
            f"requantization scale too large for a {limit.bit_length() + 1}-bit multiplier "
            f"with shifts {shifts.start}..{shifts.stop - 1}"
        )
    return best_m, best_n


@overload
def scale_and_shift(f: Scalar, bitwidth: int = 32) -> tuple[int, int]: ...
@overload
def scale_and_shift(f: npt.NDArray[Any], bitwidth: int = 32) -> tuple[Int64Array, Int64Array]: ...
def scale_and_shift(
    f: Scalar | npt.NDArray[Any], bitwidth: int = 32
) -> tuple[int, int] | tuple[Int64Array, Int64Array]:
    """TPU-MLIR's ``get_scale_and_shift``: ``f ≈ multiplier / 2^shift``.

    Shifts ``n = -32 … 30`` in that order, ``|multiplier| < 2^(bitwidth-1) - 1``
    (INT32_MAX for the default 32), see :func:`_shift_search` for the tie rule. Used by
    BM1684X Conv/MatMul requant. A float32 scale that is exact with ``n ≤ 30`` gives
    its mantissa with trailing zeros stripped; smaller scales lose precision
    (``3e-6 → (3221, 30)``). ``f = 0`` gives ``(0, -32)``, the first candidate.
    Returns Python ints for a scalar ``f``, int64 arrays of ``f``'s shape for an array.
    """
    m, n = _shift_search(f, range(-32, 31), 2 ** (bitwidth - 1) - 1)
    if isinstance(f, np.ndarray):
        return m, n
    return int(m), int(n)


@overload
def scale_and_shift_positive(f: Scalar, bitwidth: int = 8) -> tuple[int, int]: ...
@overload
def scale_and_shift_positive(
    f: npt.NDArray[Any], bitwidth: int = 8
) -> tuple[Int64Array, Int64Array]: ...
def scale_and_shift_positive(
    f: Scalar | npt.NDArray[Any], bitwidth: int = 8
) -> tuple[int, int] | tuple[Int64Array, Int64Array]:
    """TPU-MLIR's ``get_scale_and_shift_positive``: shifts ``n = 0 … 30``.

    ``|multiplier| < 2^(bitwidth-1) - 1`` (so ``< 127`` for the default 8 bits); same
    float32 search as :func:`scale_and_shift`. Used by BM1684X Add and Concat/RequantInt.
    A scale of about 126.5 or more has no valid pair and raises ValueError.
    """
    m, n = _shift_search(f, range(31), 2 ** (bitwidth - 1) - 1)
    if isinstance(f, np.ndarray):
        return m, n
    return int(m), int(n)


@overload
def qdm_multiplier(qscale: Scalar) -> tuple[int, int]: ...
@overload
def qdm_multiplier(qscale: npt.NDArray[Any]) -> tuple[Int64Array, Int64Array]: ...
def qdm_multiplier(
    qscale: Scalar | npt.NDArray[Any],
) -> tuple[int, int] | tuple[Int64Array, Int64Array]:
    """CV18xx conv's (TFLite-style) multiplier: ``qscale ≈ M31 · 2^-(31 + rshift)``.

    Facts §3.6: ``(M, e) = frexp(qscale)`` with ``M`` in [0.5, 1), ``M31 = round(M·2^31)``
    half away from zero; if that rounds up to ``2^31`` it is halved and ``e`` grows by
    one; ``rshift = -e``. The clamp of ``qscale`` to 0.999999 belongs to the conv
    parameter derivation, not here: a ``qscale >= 1`` yields a negative ``rshift``,
    which :func:`sophonc.quant.requant.apply_qdm` turns into a left shift.
    """
    q = np.asarray(qscale, dtype=np.float64)
    if not np.isfinite(q).all():
        raise ValueError("QDM scale must be finite")
    mant, exp = np.frexp(q)
    m31 = round_to_int(np.ldexp(mant, 31), RoundMode.HALF_AWAY_FROM_ZERO)
    carry = np.abs(m31) == 2**31
    m31 = np.where(carry, m31 // 2, m31)
    rshift = -(exp.astype(np.int64) + carry.astype(np.int64))
    if isinstance(qscale, np.ndarray):
        return m31, rshift
    return int(m31), int(rshift)


def cv18xx_rshift_and_multiplier(qscale_max: float, max_multiplier: int = 127) -> tuple[int, int]:
    """CV18xx eltwise: one right shift for all inputs from the largest scale (§3.6).

    ``rshift`` is the smallest ``r`` in ``0 … 31`` with ``q·2^(r+1) >= max_multiplier``,
    ``multiplier = int(q·2^r)`` (truncation), so the multiplier lands in about
    ``[max_multiplier/2, max_multiplier]``. The other inputs then use
    ``int(qscale_i·2^rshift)``. Returns ``(rshift, multiplier)``. Raises ValueError for
    a non-positive scale, for one too small to reach the bound with ``r <= 31``, and for
    one whose multiplier would exceed ``max_multiplier`` even with ``r = 0``.
    """
    q = float(qscale_max)
    if not q > 0 or not np.isfinite(q):
        raise ValueError(f"CV18xx eltwise scale must be positive and finite, got {q}")
    for r in range(32):
        if q * 2.0 ** (r + 1) >= max_multiplier:
            multiplier = int(q * 2.0**r)
            if multiplier > max_multiplier:
                raise ValueError(
                    f"CV18xx eltwise scale {q} needs a multiplier above {max_multiplier}"
                )
            return r, multiplier
    raise ValueError(f"CV18xx eltwise scale {q} is too small for a right shift of 31")


def bm1684_right_shift_num(w_max: float, in_scale: float, out_scale: float, bits: int = 8) -> int:
    """BM1684's per-tensor shift-only requant shift, ``calRightShiftNum``.

    With ``ratio = w_max · in_scale / out_scale`` (double, in that order) and
    ``target = 2^(bits-1) - 1`` (127): count the doublings of ``ratio`` needed to reach
    ``>= target``, subtract one, cap at 31. A result below 0 (the ratio already reaches
    the target) means the layer cannot be shift-only quantized: the caller lowers it
    to F32, as TPU-MLIR does.
    """
    ratio = float(w_max) * float(in_scale) / float(out_scale)
    target = 2 ** (bits - 1) - 1
    doublings = 32
    for count in range(33):
        if ratio * 2.0**count >= target:
            doublings = count
            break
    return min(doublings - 1, 31)
