"""F32 → F16/BF16 rounding: hand cases, numpy/ml_dtypes casts, and a Fraction reference."""

from __future__ import annotations

import math
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest

from sophonc.quant import (
    f32_to_bf16,
    f32_to_bf16_bits,
    f32_to_bf16_cv18xx,
    f32_to_bf16_cv18xx_bits,
    f32_to_f16,
    f32_to_f16_bits,
)

SEED = 1616
F16 = (10, -14, 15, 15)  # mantissa bits, min normal exponent, max exponent, bias
BF16 = (7, -126, 127, 127)
LOW_HALVES = [
    0x0000, 0x0001, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x2001,
    0x3FFF, 0x7FFF, 0x8000, 0x8001, 0xBFFF, 0xC000, 0xF000, 0xFFFF,
]  # fmt: skip


def from_bits(bits: list[int]) -> np.ndarray:
    return np.array(bits, dtype=np.uint32).view(np.float32)


def interesting_patterns() -> np.ndarray:
    """Every top half (sign, exponent, 7 mantissa bits) × tie/sticky low halves: 1M floats."""
    top = np.arange(2**16, dtype=np.uint32) << 16
    return (top[:, None] | np.array(LOW_HALVES, dtype=np.uint32)[None, :]).ravel()


def random_patterns(n: int) -> np.ndarray:
    rng = np.random.default_rng(SEED)
    return rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)


def exact_exponent(a: Fraction) -> int:
    """The e with 2^e <= a < 2^(e+1), for a > 0, computed exactly."""
    e = a.numerator.bit_length() - a.denominator.bit_length()
    while Fraction(2) ** e > a:
        e -= 1
    while Fraction(2) ** (e + 1) <= a:
        e += 1
    return e


def reference_bits(f: float, fmt: tuple[int, int, int, int], nan_bits: int) -> int:
    """IEEE round-to-nearest-even of a finite/inf float into a small binary format."""
    man_bits, emin, emax, bias = fmt
    inf_bits = (emax + bias + 1) << man_bits
    if math.isnan(f):
        return nan_bits
    sign = 0x8000 if math.copysign(1.0, f) < 0 else 0  # both formats are 16 bits wide
    if math.isinf(f):
        return sign | inf_bits
    a = abs(Fraction(f))
    if a < Fraction(2) ** emin:  # denormal grid 2^(emin - man_bits)
        return sign | round(a / Fraction(2) ** (emin - man_bits))
    e = exact_exponent(a)
    if e > emax:
        return sign | inf_bits
    k = round(a / Fraction(2) ** (e - man_bits))  # in [2^man, 2^(man+1)], ties to even
    return sign | min(((e + bias) << man_bits) + k - (1 << man_bits), inf_bits)


F16_CASES = [
    (0x3F800000, 0x3C00),  # 1.0
    (0x3F801000, 0x3C00),  # 1 + 2^-11: tie between 0x3C00 and 0x3C01 -> even
    (0x3F803000, 0x3C02),  # 1 + 3*2^-11: tie between 0x3C01 and 0x3C02 -> even
    (0x3F801001, 0x3C01),  # just above the tie
    (0x477FE000, 0x7BFF),  # 65504, the largest f16
    (0x477FEFFF, 0x7BFF),  # just below 65520
    (0x477FF000, 0x7C00),  # 65520: tie between 0x7BFF (odd) and inf -> inf
    (0x33800000, 0x0001),  # 2^-24, the smallest denormal
    (0x33000000, 0x0000),  # 2^-25: tie between 0 and 1 -> 0
    (0x33400000, 0x0001),  # 1.5 * 2^-25 -> 1
    (0x33C00000, 0x0002),  # 3 * 2^-25 = 1.5 units: tie -> 2
    (0x38800000, 0x0400),  # 2^-14, the smallest normal
    (0x387FE000, 0x0400),  # 2^-14 - 2^-25 = 1023.5 units: tie -> 1024, into the normals
    (0x7F800000, 0x7C00),  # inf
    (0xFF800000, 0xFC00),  # -inf
    (0x7FC00000, 0x7FFF),  # NaN -> TPU-MLIR's 0x7FFF
    (0xFFC00001, 0x7FFF),  # negative NaN too
    (0x80000000, 0x8000),  # -0.0
    (0x00000001, 0x0000),  # float32 denormal -> +0
    (0x80000001, 0x8000),  # negative float32 denormal -> -0
]


@pytest.mark.parametrize(("bits", "expected"), F16_CASES)
def test_f16_by_hand(bits: int, expected: int) -> None:
    assert int(f32_to_f16_bits(from_bits([bits]))[0]) == expected


def test_f16_matches_numpy_cast_on_interesting_patterns() -> None:
    x = interesting_patterns().view(np.float32)
    ours = f32_to_f16_bits(x)
    with np.errstate(invalid="ignore", over="ignore"):
        theirs = x.astype(np.float16).view(np.uint16)
    nan = np.isnan(x)
    assert np.array_equal(ours[~nan], theirs[~nan])
    assert (ours[nan] == 0x7FFF).all()


def test_f16_matches_fraction_reference() -> None:
    x = random_patterns(3000).view(np.float32)
    ours = f32_to_f16_bits(x).tolist()
    for f, got in zip(x.tolist(), ours, strict=True):
        assert got == reference_bits(f, F16, 0x7FFF), f


def test_f16_values_and_double_rounding() -> None:
    got = f32_to_f16(np.array([1.0, 65520.0, -(2.0**-24)], dtype=np.float32))
    assert got.dtype == np.float16
    assert got.tolist() == [1.0, math.inf, -(2.0**-24)]
    # A float64 argument is rounded to float32 first: 1 + 2^-11 + 2^-30 becomes the tie
    # 1 + 2^-11 and goes to 1.0, where a direct double->half cast gives 1 + 2^-10.
    x = np.array([1 + 2.0**-11 + 2.0**-30])
    assert f32_to_f16(x).tolist() == [1.0]
    assert x.astype(np.float16).tolist() == [1 + 2.0**-10]


BF16_CASES = [
    (0x3F800000, 0x3F80),  # 1.0
    (0x3F808000, 0x3F80),  # tie, kept lsb even -> down
    (0x3F818000, 0x3F82),  # tie, kept lsb odd -> up
    (0x3F808001, 0x3F81),  # just above the tie
    (0x7F7FFFFF, 0x7F80),  # rounds past the largest finite -> inf
    (0xFF7FFFFF, 0xFF80),  # -> -inf
    (0x7F800000, 0x7F80),  # inf
    (0x7F800001, 0x7FC0),  # signalling NaN stays NaN (plain rounding would give inf)
    (0xFF800001, 0xFFC0),  # negative NaN keeps its sign
    (0x00008000, 0x0000),  # float32 denormal tie -> 0
    (0x00018000, 0x0002),  # denormal tie, odd -> up
]


@pytest.mark.parametrize(("bits", "expected"), BF16_CASES)
def test_bf16_by_hand(bits: int, expected: int) -> None:
    assert int(f32_to_bf16_bits(from_bits([bits]))[0]) == expected


def test_bf16_matches_ml_dtypes_on_interesting_patterns() -> None:
    x = interesting_patterns().view(np.float32)
    with np.errstate(invalid="ignore"):
        theirs = x.astype(ml_dtypes.bfloat16).view(np.uint16)
    assert np.array_equal(f32_to_bf16_bits(x), theirs)


def test_bf16_matches_fraction_reference() -> None:
    x = random_patterns(3000).view(np.float32)
    ours = f32_to_bf16_bits(x).tolist()
    for f, bits, got in zip(x.tolist(), x.view(np.uint32).tolist(), ours, strict=True):
        nan_bits = (bits >> 16 & 0x8000) | 0x7FC0
        assert got == reference_bits(f, BF16, nan_bits), hex(bits)


def test_bf16_values() -> None:
    # float32 pi is 0x40490FDB: the dropped half 0x0FDB is below the tie -> 0x4049 = 3.140625
    got = f32_to_bf16(from_bits([0x3F800000, 0x40490FDB]))
    assert got.dtype == ml_dtypes.bfloat16
    assert got.view(np.uint16).tolist() == [0x3F80, 0x4049]
    assert [float(v) for v in got] == [1.0, 3.140625]


CV18XX_CASES = [
    (0x3F800000, 0x3F80),
    (0x3F808000, 0x3F80),  # tie, even -> down
    (0x3F818000, 0x3F82),  # tie, odd -> up
    (0x7F7FFFFF, 0x7F7F),  # would round to inf -> clamped to max finite
    (0x7F800000, 0x7F7F),  # inf -> max finite
    (0xFF800000, 0x7F7F),  # -inf -> 0x7F7F as well (TPU-MLIR's literal rule)
    (0x7FC00000, 0x7F7F),  # NaN -> exponent 0xFF -> 0x7F7F
    (0xFFFFFFFF, 0x0000),  # 0xFFFFFFFF + 0x8000 wraps in 32 bits to 0x00007FFF
    (0xBF800000, 0xBF80),  # -1.0 keeps its sign
]


@pytest.mark.parametrize(("bits", "expected"), CV18XX_CASES)
def test_bf16_cv18xx_by_hand(bits: int, expected: int) -> None:
    assert int(f32_to_bf16_cv18xx_bits(from_bits([bits]))[0]) == expected


def test_bf16_cv18xx_is_round_to_nearest_even_below_overflow() -> None:
    x = interesting_patterns().view(np.float32)
    ours = f32_to_bf16_cv18xx_bits(x)
    with np.errstate(invalid="ignore"):
        rne = x.astype(ml_dtypes.bfloat16).view(np.uint16)
    ordinary = (rne & 0x7F80) != 0x7F80  # finite after rounding
    assert np.array_equal(ours[ordinary], rne[ordinary])
    finite_overflow = ~ordinary & np.isfinite(x)
    assert finite_overflow.any()
    assert (ours[finite_overflow] == 0x7F7F).all()


def test_bf16_cv18xx_matches_integer_formula() -> None:
    bits = random_patterns(3000)
    ours = f32_to_bf16_cv18xx_bits(bits.view(np.float32)).tolist()
    for b, got in zip(bits.tolist(), ours, strict=True):
        top = ((b + 0x7FFF + ((b >> 16) & 1)) % 2**32) >> 16
        want = 0x7F7F if (top >> 7) & 0xFF == 0xFF else top
        assert got == want, hex(b)


def test_bf16_cv18xx_values() -> None:
    got = f32_to_bf16_cv18xx(np.array([np.inf, 2.0], dtype=np.float32))
    assert got.dtype == ml_dtypes.bfloat16
    assert got.view(np.uint16).tolist() == [0x7F7F, 0x4000]


def test_the_fast_conversions_equal_the_bit_level_definitions() -> None:
    rng = np.random.default_rng(31)
    patterns = rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)
    specials = np.array([0, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00001, 0xFFC12345,
                         0x477FF000, 0x477FEFFF, 0x33000000, 0x33000001, 0x00000001],
                        np.uint32)  # fmt: skip
    x = np.concatenate([patterns, specials]).view(np.float32)
    np.testing.assert_array_equal(f32_to_f16(x).view(np.uint16), f32_to_f16_bits(x))
    np.testing.assert_array_equal(f32_to_bf16(x).view(np.uint16), f32_to_bf16_bits(x))
