"""Rounding modes, saturation and rounding right shifts, against hand arithmetic."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sophonc.quant import (
    RoundMode,
    right_shift_round,
    round_to_int,
    saturate,
    to_int8,
    to_uint8,
)

SEED = 20240611
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

VALUES = [-2.5, -1.5, -1.2, -0.5, 0.5, 1.2, 1.5, 2.5, 2.7]
EXPECTED = {
    # floor(|v| + 1/2) with v's sign
    "half_away_from_zero": [-3, -2, -1, -1, 1, 1, 2, 3, 3],
    # floor(v + 1/2)
    "half_up": [-2, -1, -1, 0, 1, 1, 2, 3, 3],
    # ceil(v - 1/2)
    "half_down": [-3, -2, -1, -1, 0, 1, 1, 2, 3],
    # ties to the even neighbour
    "half_to_even": [-2, -2, -1, 0, 0, 1, 2, 2, 3],
    "down": [-3, -2, -2, -1, 0, 1, 1, 2, 2],
    "up": [-2, -1, -1, 0, 1, 2, 2, 3, 3],
    "towards_zero": [-2, -1, -1, 0, 0, 1, 1, 2, 2],
}


def test_round_mode_spellings() -> None:
    assert [m.value for m in RoundMode] == list(EXPECTED)
    assert RoundMode("half_up") is RoundMode.HALF_UP
    assert RoundMode.HALF_TO_EVEN == "half_to_even"


@pytest.mark.parametrize("mode", list(EXPECTED))
def test_round_to_int_by_hand(mode: str) -> None:
    got = round_to_int(np.array(VALUES), mode)
    assert got.dtype == np.int64
    assert got.tolist() == EXPECTED[mode]


def test_round_to_int_float32_input() -> None:
    got = round_to_int(np.array(VALUES, dtype=np.float32), RoundMode.HALF_AWAY_FROM_ZERO)
    assert got.tolist() == EXPECTED["half_away_from_zero"]


def test_default_mode_is_half_away_from_zero() -> None:
    assert round_to_int([2.5, -2.5]).tolist() == [3, -3]


def test_half_to_even_goes_through_float32_like_tpu_mlir() -> None:
    # 2.5000000001 is 2.5 in float32, a tie, so it goes to the even 2 (exactly it is 3);
    # 3.4999999999 is 3.5 in float32, a tie, so it goes to 4 (exactly it is 3).
    assert round_to_int([2.5000000001, 3.4999999999, -2.5000000001], "half_to_even").tolist() == [
        2,
        4,
        -2,
    ]


def test_half_up_has_no_double_rounding() -> None:
    # The largest double below 0.5: 0.49999999999999994 + 0.5 rounds to 1.0 in double,
    # but floor(v + 1/2) is exactly 0.
    below_half = np.nextafter(0.5, 0.0)
    assert round_to_int([below_half], "half_up").tolist() == [0]
    assert round_to_int([below_half], "half_away_from_zero").tolist() == [0]


def test_integers_pass_through_and_infinities_clip() -> None:
    assert round_to_int(np.array([-3, 7], dtype=np.int8), "up").tolist() == [-3, 7]
    big = round_to_int([np.inf, -np.inf, 1e300])
    assert big.tolist() == [2**62, -(2**62), 2**62]
    assert to_int8([np.inf, -np.inf]).tolist() == [127, -128]


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        round_to_int([1.0, np.nan])


def test_round_to_int_matches_exact_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED)
    values = np.concatenate(
        [
            rng.integers(-4000, 4000, 400) / 4.0,  # many exact ties
            rng.uniform(-1e6, 1e6, 400),
            rng.standard_normal(400) * 10.0 ** rng.integers(-3, 15, 400),
        ]
    )
    for mode in RoundMode:
        got = round_to_int(values, mode).tolist()
        for v, g in zip(values.tolist(), got, strict=True):
            if mode is RoundMode.HALF_TO_EVEN:
                magnitude = ref_round(Fraction(float(np.float32(abs(v)))), "half_to_even")
                want = magnitude if v >= 0 else -magnitude
            else:
                want = ref_round(Fraction(v), str(mode))
            assert g == want, (mode, v)


def test_saturate_by_hand() -> None:
    got = saturate([-300, -128, 0, 127, 300], "i8")
    assert got.dtype == np.int8
    assert got.tolist() == [-128, -128, 0, 127, 127]
    assert saturate([-1, 0, 255, 256], "u8").tolist() == [0, 0, 255, 255]
    assert saturate([-40000, 40000], "i16").tolist() == [-32768, 32767]
    assert saturate([-1, 70000], "u16").tolist() == [0, 65535]
    got32 = saturate([2**40, -(2**40), 5], "i32")
    assert got32.dtype == np.int32
    assert got32.tolist() == [2**31 - 1, -(2**31), 5]


def test_saturate_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="cannot saturate to 'f32'"):
        saturate([1], "f32")
    with pytest.raises(TypeError, match="round it first"):
        saturate([1.5], "i8")


def test_to_int8_and_to_uint8_by_hand() -> None:
    got = to_int8([127.4, 127.5, -128.5, -0.5, 3.5])
    assert got.dtype == np.int8
    assert got.tolist() == [127, 127, -128, -1, 4]
    assert to_int8([127.4, 127.5, -128.5, -0.5, 3.5], "half_to_even").tolist() == [
        127,
        127,
        -128,
        0,
        4,
    ]
    got_u = to_uint8([-0.4, -3.0, 254.5, 255.5, 1.5])
    assert got_u.dtype == np.uint8
    assert got_u.tolist() == [0, 0, 255, 255, 2]


SHIFT_CASES = [
    # (x, shift, mode, expected) with the quotient x/2^s written out
    (-5, 1, "half_up", -2),  # -2.5 -> floor(-2.0)
    (5, 1, "half_up", 3),  # 2.5 -> 3
    (-6, 2, "half_up", -1),  # -1.5 -> floor(-1.0)
    (-7, 2, "half_up", -2),  # -1.75 -> floor(-1.25)
    (-5, 1, "half_away_from_zero", -3),
    (5, 1, "half_away_from_zero", 3),
    (5, 1, "half_to_even", 2),
    (7, 1, "half_to_even", 4),
    (-5, 1, "half_to_even", -2),
    (-7, 1, "half_to_even", -4),
    (5, 1, "half_down", 2),
    (-5, 1, "half_down", -3),
    (-5, 1, "down", -3),
    (-5, 1, "up", -2),
    (-5, 1, "towards_zero", -2),
    (5, 1, "towards_zero", 2),
    (3, -2, "half_up", 12),  # negative shift = left shift
    (-3, -2, "down", -12),
    (0, 5, "up", 0),
    (-1, 63, "down", -1),  # -2^-63 floors to -1
    (-1, 63, "half_up", 0),  # -2^-63 + 1/2 floors to 0
    (INT64_MIN, 63, "half_up", -1),  # exactly -1
    (INT64_MAX, 63, "half_up", 1),  # 1 - 2^-63 rounds to 1
    (INT64_MAX, 63, "down", 0),
]


@pytest.mark.parametrize(("x", "shift", "mode", "expected"), SHIFT_CASES)
def test_right_shift_round_by_hand(x: int, shift: int, mode: str, expected: int) -> None:
    assert int(right_shift_round(x, shift, mode)) == expected


def test_right_shift_round_default_is_half_up() -> None:
    assert int(right_shift_round(-5, 1)) == -2


def test_right_shift_round_with_shift_arrays() -> None:
    assert right_shift_round([100, 100, 100], [0, 2, -1]).tolist() == [100, 25, 200]
    x = np.array([[10, 11, 12], [-10, -11, -12]])
    got = right_shift_round(x, np.array([0, 1, 2]))
    # 10, 5.5, 3 / -10, -5.5, -3 with HALF_UP
    assert got.tolist() == [[10, 6, 3], [-10, -5, -3]]


def test_right_shift_round_matches_exact_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED + 1)
    wide = rng.integers(INT64_MIN, INT64_MAX, 300, dtype=np.int64, endpoint=True)
    narrow = rng.integers(-(2**20), 2**20, 300, dtype=np.int64)
    x = np.concatenate([wide, narrow, np.array([INT64_MIN, INT64_MAX, 0, -1, 1])])
    shifts = rng.integers(1, 64, x.size, dtype=np.int64)
    for mode in RoundMode:
        got = right_shift_round(x, shifts, mode).tolist()
        for xi, si, g in zip(x.tolist(), shifts.tolist(), got, strict=True):
            assert g == ref_round(Fraction(xi, 2**si), str(mode)), (mode, xi, si)


def test_left_shift_is_exact_and_checked() -> None:
    rng = np.random.default_rng(SEED + 2)
    x = rng.integers(-(2**30), 2**30, 200, dtype=np.int64)
    k = rng.integers(0, 33, 200, dtype=np.int64)
    got = right_shift_round(x, -k).tolist()
    assert got == [xi * 2**ki for xi, ki in zip(x.tolist(), k.tolist(), strict=True)]
    with pytest.raises(OverflowError):
        right_shift_round(2**40, -30)


def test_right_shift_round_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="shift out of range"):
        right_shift_round(1, 64)
    with pytest.raises(TypeError):
        right_shift_round(1.5, 1)
