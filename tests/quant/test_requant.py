"""Applying requantization (BM168x, CV18xx float form, QDM), against hand arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sophonc.quant import (
    RoundMode,
    along_axis,
    apply_multiplier_shift,
    apply_multiplier_shift_cv18xx,
    apply_qdm,
)

SEED = 1688
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def test_apply_multiplier_shift_by_hand() -> None:
    # 100*3/4 = 75, -100*3/4 = -75, 10*3/4 = 7.5 -> 8, -10*3/4 = -7.5 -> -7 (HALF_UP)
    got = apply_multiplier_shift([100, -100, 10, -10], 3, 2)
    assert got.dtype == np.int64
    assert got.tolist() == [75, -75, 8, -7]
    assert apply_multiplier_shift([10, -10], 3, 2, RoundMode.HALF_AWAY_FROM_ZERO).tolist() == [
        8,
        -8,
    ]
    # shift-only (multiplier 1): 7/2 = 3.5 -> 4
    assert apply_multiplier_shift([7], 1, 1).tolist() == [4]
    # negative shift multiplies: 5*3*2 = 30
    assert apply_multiplier_shift([5], 3, -1).tolist() == [30]


def test_apply_multiplier_shift_per_channel() -> None:
    v = np.array([[[4, 5], [4, 5]]])  # N=1, C=2, W=2
    got = apply_multiplier_shift(v, [1, 3], [0, 1], axis=1)
    # channel 0: unchanged; channel 1: 12/2 = 6, 15/2 = 7.5 -> 8
    assert got.tolist() == [[[4, 5], [6, 8]]]
    got_last = apply_multiplier_shift(v, [1, 3], [0, 1], axis=-1)
    # along the last axis: column 0 unchanged, column 1: 15/2 -> 8
    assert got_last.tolist() == [[[4, 8], [4, 8]]]


def test_along_axis_refuses_bad_shapes() -> None:
    with pytest.raises(ValueError, match="1-D"):
        along_axis(np.ones((2, 2)), 3, 1)
    with pytest.raises(ValueError, match="out of range"):
        along_axis([1, 2], 2, 2)


def test_apply_multiplier_shift_overflow_guard() -> None:
    with pytest.raises(OverflowError, match="2\\^63"):
        apply_multiplier_shift([2**40], 2**30, 10)
    # the documented safe range: |v| < 2^31, |m| < 2^31
    got = apply_multiplier_shift([INT32_MAX, INT32_MIN + 1], INT32_MAX, 31)
    # (2^31-1)^2 / 2^31 = 2^31 - 2 + 2^-31, which rounds to 2^31 - 2 either side
    assert got.tolist() == [2**31 - 2, -(2**31) + 2]


def test_apply_multiplier_shift_matches_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED)
    v = rng.integers(INT32_MIN, INT32_MAX, (4, 8, 5), dtype=np.int64)
    m = rng.integers(INT32_MIN + 1, INT32_MAX, 8, dtype=np.int64)
    s = rng.integers(-4, 45, 8, dtype=np.int64)
    s = np.where(s < 0, 0, s)  # left shifts of full int32*int32 would overflow
    for mode in RoundMode:
        got = apply_multiplier_shift(v, m, s, mode, axis=1)
        for (n, c, w), g in np.ndenumerate(got):
            want = ref_round(Fraction(int(v[n, c, w]) * int(m[c]), 2 ** int(s[c])), str(mode))
            assert g == want, (mode, n, c, w)


def test_apply_multiplier_shift_cv18xx_by_hand() -> None:
    # 10*3/4 = 7.5 -> 8 (HALF_UP), -7.5 -> -7
    assert apply_multiplier_shift_cv18xx([10, -10], 3, 2).tolist() == [8, -7]
    # float math: 2^24 + 1 is not a float32, it becomes 2^24
    assert apply_multiplier_shift_cv18xx([2**24 + 1], 1, 0).tolist() == [2**24]
    # (2^24+1)*3 exactly is 50331651; float32(2^24+1) = 2^24, times 3 = 50331648
    assert apply_multiplier_shift_cv18xx([2**24 + 1], 3, 0).tolist() == [50331648]


def test_apply_multiplier_shift_cv18xx_matches_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED + 1)
    v = rng.integers(-(2**20), 2**20, 300, dtype=np.int64)
    m = rng.integers(-200, 200, 300, dtype=np.int64)
    s = rng.integers(0, 12, 300, dtype=np.int64)
    got = apply_multiplier_shift_cv18xx(v, m, s, RoundMode.HALF_UP)
    for vi, mi, si, g in zip(v.tolist(), m.tolist(), s.tolist(), got.tolist(), strict=True):
        product = np.float32(vi) * np.float32(mi)  # the C float product
        want = ref_round(Fraction(float(product)) / 2**si, "half_up")
        assert g == want
        if abs(vi * mi) < 2**24:  # small products are exact in float32
            assert g == ref_round(Fraction(vi * mi, 2**si), "half_up")


def test_apply_qdm_by_hand() -> None:
    half = 2**30  # M31 for 0.5
    # 1000*0.5 = 500, then /4 = 125
    assert apply_qdm([1000], half, 2).tolist() == [125]
    # -1001*0.5 = -500.5 -> -500 (HALF_UP); -500/4 = -125
    assert apply_qdm([-1001], half, 2).tolist() == [-125]
    # -1004*0.5 = -502; -502/4 = -125.5 -> -126 (half away from zero)
    assert apply_qdm([-1004], half, 2).tolist() == [-126]
    assert apply_qdm([-1004], half, 2, RoundMode.HALF_UP).tolist() == [-125]
    # negative rshift: 3 << 2 = 12, then 12*0.5 = 6
    assert apply_qdm([3], half, -2).tolist() == [6]
    # 2^32 * (2^31-1) / 2^31 = 2^32 - 2 -> clamped to INT32_MAX
    assert apply_qdm([2**32], 2**31 - 1, 0).tolist() == [INT32_MAX]
    assert apply_qdm([-(2**32)], 2**31 - 1, 0).tolist() == [INT32_MIN]


def test_apply_qdm_per_channel() -> None:
    v = np.array([[100, 100], [-100, -100]])
    got = apply_qdm(v, [2**30, 3 * 2**29], [1, 0], axis=1)
    # column 0: 100*0.5 = 50, /2 = 25; column 1: 100*0.75 = 75
    assert got.tolist() == [[25, 75], [-25, -75]]


def test_apply_qdm_matches_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED + 2)
    v = rng.integers(INT32_MIN, INT32_MAX, 400, dtype=np.int64)
    m = rng.integers(2**30, 2**31, 400, dtype=np.int64)
    r = rng.integers(-3, 20, 400, dtype=np.int64)
    v = np.where(r < 0, v >> 4, v)  # keep left-shifted values inside int32 * 2^31 range
    for mode in (RoundMode.HALF_AWAY_FROM_ZERO, RoundMode.HALF_UP, RoundMode.DOWN):
        got = apply_qdm(v, m, r, mode)
        for vi, mi, ri, g in zip(v.tolist(), m.tolist(), r.tolist(), got.tolist(), strict=True):
            x = vi * 2 ** max(-ri, 0)
            t = ref_round(Fraction(x * mi, 2**31), "half_up")
            t = min(max(t, INT32_MIN), INT32_MAX)
            assert g == ref_round(Fraction(t, 2 ** max(ri, 0)), str(mode))
