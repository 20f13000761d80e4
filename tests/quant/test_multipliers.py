"""Multiplier/shift searches, against hand arithmetic and a Fraction reference search."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from sophonc.quant import (
    bm1684_right_shift_num,
    cv18xx_rshift_and_multiplier,
    qdm_multiplier,
    scale_and_shift,
    scale_and_shift_positive,
)

SEED = 1684


def reference_search(f: float, shifts: range, limit: int, ref_round) -> tuple[int, int]:
    """get_scale_and_shift written out on exact rationals, error kept as a float32."""
    exact = Fraction(float(np.float32(f)))
    best: tuple[int, int] | None = None
    best_err = np.float32(np.inf)
    for n in shifts:
        m = ref_round(exact * Fraction(2) ** n, "half_away_from_zero")
        if abs(m) >= limit:
            continue
        err = np.float32(float(abs(Fraction(m) / Fraction(2) ** n - exact)))
        if err < best_err:
            best, best_err = (m, n), err
    assert best is not None
    return best


def test_scale_and_shift_by_hand() -> None:
    # 3e-6 needs shift 42 to be exact; the best allowed shift is 30:
    # 3e-6 * 2^30 = 3221.2255… -> 3221.
    assert scale_and_shift(3e-6) == (3221, 30)
    # 0.5 = 1/2^1: exact at n = 1, later exact shifts are not strictly better.
    assert scale_and_shift(0.5) == (1, 1)
    assert scale_and_shift(0.75) == (3, 2)
    assert scale_and_shift(1.0) == (1, 0)
    assert scale_and_shift(-0.75) == (-3, 2)
    # float32(0.1) = 0x3DCCCCCD = 13421773 * 2^-27, exact at n = 27.
    assert scale_and_shift(0.1) == (13421773, 27)
    # 2^40 = 256 * 2^32: exact already at the first shift, n = -32.
    assert scale_and_shift(2.0**40) == (256, -32)
    # zero: every candidate has error 0, the first one (n = -32) wins.
    assert scale_and_shift(0.0) == (0, -32)


def test_scale_and_shift_casts_to_float32_first() -> None:
    # 0.1 as a double is not 13421773 * 2^-27, but its float32 is.
    assert scale_and_shift(np.float64(0.1)) == scale_and_shift(np.float32(0.1))


def test_scale_and_shift_arrays() -> None:
    m, s = scale_and_shift(np.array([0.5, 3e-6, 0.75]))
    assert m.dtype == np.int64
    assert m.tolist() == [1, 3221, 3]
    assert s.tolist() == [1, 30, 2]


def test_scale_and_shift_bitwidth() -> None:
    # 16 bits: |m| < 32767. 3e-6 * 2^30 = 3221 still fits. For 0.1: n = 17 gives
    # 13107.2 -> 13107; n = 18 gives 26214.4 -> 26214 = 2 * 13107, the same value and so
    # the same error: the first stays. n = 19 gives 52428.8 -> too big.
    assert scale_and_shift(3e-6, bitwidth=16) == (3221, 30)
    assert scale_and_shift(0.1, bitwidth=16) == (13107, 17)


def test_scale_and_shift_too_large() -> None:
    with pytest.raises(ValueError, match="too large"):
        scale_and_shift(2.0**64)


def test_scale_and_shift_matches_reference_search(ref_round) -> None:
    rng = np.random.default_rng(SEED)
    magnitudes = 10.0 ** rng.uniform(-12, 12, 300)
    signs = rng.choice([-1.0, 1.0], 300)
    dyadic = rng.integers(1, 2**20, 100) / 2.0 ** rng.integers(0, 40, 100)
    values = np.concatenate([magnitudes * signs, dyadic]).astype(np.float32)
    m, s = scale_and_shift(values)
    for f, mi, si in zip(values.tolist(), m.tolist(), s.tolist(), strict=True):
        assert (mi, si) == reference_search(f, range(-32, 31), 2**31 - 1, ref_round), f


def test_scale_and_shift_positive_by_hand() -> None:
    # float32(0.3): n=2 gives 1/4 (err .05), n=3 2/8 (same err, not better),
    # n=4 5/16 (err .0125), n=6 19/64 (err .003125), n=8 77/256 (err .00078);
    # n=9 would need 153.6 -> 154 >= 127.
    assert scale_and_shift_positive(0.3) == (77, 8)
    # 0.5: n=0 gives round(0.5) = 1 (err .5), n=1 gives 1/2 exactly.
    assert scale_and_shift_positive(0.5) == (1, 1)
    # 126.4 -> 126 at n = 0; nothing larger fits below 127.
    assert scale_and_shift_positive(126.4) == (126, 0)
    with pytest.raises(ValueError):
        scale_and_shift_positive(126.6)  # rounds to 127, not < 127


def test_scale_and_shift_positive_matches_reference_search(ref_round) -> None:
    rng = np.random.default_rng(SEED + 1)
    values = (10.0 ** rng.uniform(-9, 2.1, 300)).astype(np.float32)
    m, s = scale_and_shift_positive(values)
    for f, mi, si in zip(values.tolist(), m.tolist(), s.tolist(), strict=True):
        assert (mi, si) == reference_search(f, range(31), 127, ref_round), f
        assert 0 <= si <= 30


def test_qdm_multiplier_by_hand() -> None:
    assert qdm_multiplier(0.5) == (2**30, 0)  # 0.5 = 0.5 * 2^0
    assert qdm_multiplier(0.75) == (1610612736, 0)  # 0.75 * 2^31
    # 0.1 = 0.8 * 2^-3; 0.8 * 2^31 = 1717986918.4 -> 1717986918, rshift 3
    assert qdm_multiplier(0.1) == (1717986918, 3)
    # 1 - 2^-40 = M * 2^0 with M*2^31 rounding to 2^31: renormalised to 2^30, e = 1
    assert qdm_multiplier(1 - 2.0**-40) == (2**30, -1)
    assert qdm_multiplier(0.0) == (0, 0)


def test_qdm_multiplier_matches_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED + 2)
    values = 10.0 ** rng.uniform(-8, 0.5, 300)
    m31, rshift = qdm_multiplier(values)
    for q, mi, ri in zip(values.tolist(), m31.tolist(), rshift.tolist(), strict=True):
        exact = Fraction(q)
        e = math.floor(math.log2(q)) + 1  # 2^(e-1) <= q < 2^e
        while exact >= Fraction(2) ** e:
            e += 1
        while exact < Fraction(2) ** (e - 1):
            e -= 1
        want = ref_round(exact * Fraction(2) ** (31 - e), "half_away_from_zero")
        if want == 2**31:
            want, e = 2**30, e + 1
        assert (mi, ri) == (want, -e), q
        assert 2**30 <= mi < 2**31


def test_cv18xx_rshift_and_multiplier_by_hand() -> None:
    # q=0.5: 0.5*2^(r+1) >= 127 first at r+1 = 8; multiplier int(0.5*2^7) = 64
    assert cv18xx_rshift_and_multiplier(0.5) == (7, 64)
    # q=1: 2^(r+1) >= 127 first at r = 6; multiplier 64
    assert cv18xx_rshift_and_multiplier(1.0) == (6, 64)
    # q=0.9: 0.9*2^8 = 230.4 >= 127, 0.9*2^7 = 115.2 < 127 -> r = 7, int(115.2) = 115
    assert cv18xx_rshift_and_multiplier(0.9) == (7, 115)
    # q=100: 200 >= 127 at r = 0, multiplier 100
    assert cv18xx_rshift_and_multiplier(100.0) == (0, 100)
    with pytest.raises(ValueError, match="above 127"):
        cv18xx_rshift_and_multiplier(200.0)
    with pytest.raises(ValueError, match="positive"):
        cv18xx_rshift_and_multiplier(0.0)
    with pytest.raises(ValueError, match="too small"):
        cv18xx_rshift_and_multiplier(1e-12)


def test_cv18xx_rshift_and_multiplier_property() -> None:
    rng = np.random.default_rng(SEED + 3)
    for q in (10.0 ** rng.uniform(-7, 2, 300)).tolist():
        r, m = cv18xx_rshift_and_multiplier(q)
        exact = Fraction(q)
        assert exact * 2 ** (r + 1) >= 127
        assert r == 0 or exact * 2**r < 127
        assert m == math.floor(exact * 2**r)
        assert m <= 127


def test_bm1684_right_shift_num_by_hand() -> None:
    # ratio = 1 * 0.1 / 0.05 = 2: 2*2^6 = 128 >= 127 after 6 doublings -> 5
    assert bm1684_right_shift_num(1.0, 0.1, 0.05) == 5
    assert bm1684_right_shift_num(127.0, 1.0, 1.0) == -1  # no doubling needed -> F32
    assert bm1684_right_shift_num(63.5, 1.0, 1.0) == 0  # one doubling
    assert bm1684_right_shift_num(1e-12, 1.0, 1.0) == 31  # capped
    assert bm1684_right_shift_num(0.0, 1.0, 1.0) == 31
    # 4 bits: target 7; ratio 1 needs 3 doublings (8) -> 2
    assert bm1684_right_shift_num(1.0, 1.0, 1.0, bits=4) == 2


def test_bm1684_right_shift_num_property() -> None:
    rng = np.random.default_rng(SEED + 4)
    for w, i, o in rng.uniform(1e-4, 10.0, (200, 3)).tolist():
        got = bm1684_right_shift_num(w, i, o)
        ratio = Fraction(w * i / o)
        doublings = next(c for c in range(100) if ratio * 2**c >= 127)
        assert got == min(doublings - 1, 31)
