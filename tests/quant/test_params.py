"""Activation scales, asymmetric zero points, weight and bias quantization by hand."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sophonc.quant import (
    asymmetric_params,
    quantize_bias,
    quantize_weight_per_channel,
    symmetric_scale,
)

SEED = 1684_2


def test_symmetric_scale_by_hand() -> None:
    assert symmetric_scale(12.7, True) == 12.7 / 127
    assert symmetric_scale(25.5, False) == 25.5 / 255
    assert symmetric_scale(127.0, True) == 1.0
    assert symmetric_scale(255.0, False) == 1.0
    with pytest.raises(ValueError, match="positive"):
        symmetric_scale(0.0, True)


def test_asymmetric_params_signed_by_hand() -> None:
    p = asymmetric_params(-1.0, 3.0)
    # int8: scale = 4/255; zero point = round(-128 - (-1)/(4/255)) = round(-128 + 63.75)
    #     = round(-64.25) = -64
    assert (p.qmin, p.qmax, p.signed) == (-128, 127, True)
    assert p.scale == 4.0 / 255
    assert p.zero_point == -64
    # nudged range: (-128 + 64) * 4/255 = -1.0039…, (127 + 64) * 4/255 = 2.996…
    assert p.nudged_min == pytest.approx(-64 * 4 / 255)
    assert p.nudged_max == pytest.approx(191 * 4 / 255)


def test_asymmetric_params_unsigned_and_widening_by_hand() -> None:
    p = asymmetric_params(0.5, 2.0)
    # min >= 0 -> uint8; the range is widened to [0, 2]: scale 2/255, zero point 0
    assert (p.qmin, p.qmax, p.signed) == (0, 255, False)
    assert p.scale == 2.0 / 255
    assert p.zero_point == 0
    q = asymmetric_params(-2.0, -1.0)
    # widened to [-2, 0]: scale 2/255, zero point round(-128 + 2/(2/255)) = 127
    assert q.scale == 2.0 / 255
    assert q.zero_point == 127


def test_asymmetric_params_explicit_range_and_degenerate() -> None:
    p = asymmetric_params(-1.0, 1.0, qmin=-8, qmax=7)
    # scale 2/15; zero point round(-8 + 7.5) = round(-0.5) = -1 (half away from zero)
    assert p.scale == 2.0 / 15
    assert p.zero_point == -1
    z = asymmetric_params(0.0, 0.0)
    assert (z.scale, z.zero_point, z.qmin) == (1.0, 0, 0)
    with pytest.raises(ValueError, match="finite"):
        asymmetric_params(-np.inf, 1.0)


def test_asymmetric_params_properties(ref_round) -> None:
    rng = np.random.default_rng(SEED)
    for lo, hi in rng.uniform(-10, 10, (300, 2)).tolist():
        lo, hi = min(lo, hi), max(lo, hi)
        p = asymmetric_params(lo, hi)
        assert p.qmin <= p.zero_point <= p.qmax
        assert p.nudged_min <= 0.0 <= p.nudged_max  # real zero is representable
        lo0, hi0 = min(lo, 0.0), max(hi, 0.0)
        assert p.scale == (hi0 - lo0) / (p.qmax - p.qmin)
        exact_zero = Fraction(p.qmin) - Fraction(lo0) / Fraction(p.scale)
        if abs(exact_zero - round(exact_zero)) != Fraction(1, 2):  # not a tie
            want = ref_round(exact_zero, "half_away_from_zero")
            assert p.zero_point == min(max(want, p.qmin), p.qmax)
        assert abs(p.nudged_min - lo0) <= p.scale / 2 + 1e-12


def test_quantize_weight_per_channel_signed_by_hand() -> None:
    w = np.array([[63.5, -127.0, 1.25], [-254.0, 1.0, 3.0]], dtype=np.float32)
    q = quantize_weight_per_channel(w, axis=0)
    # fsign (min < 0): channel 0 max 127 -> scale 1; channel 1 max 254 -> scale 2
    assert q.signed is True
    assert q.scales.tolist() == [1.0, 2.0]
    assert q.values.dtype == np.int8
    # 63.5 -> 64 (half away), 1.25 -> 1; -254/2 = -127, 1/2 = 0.5 -> 1, 3/2 = 1.5 -> 2
    assert q.values.tolist() == [[64, -127, 1], [-127, 1, 2]]


def test_quantize_weight_per_channel_unsigned_by_hand() -> None:
    w = np.array([[255.0, 127.5], [0.0, 0.0]])
    q = quantize_weight_per_channel(w, axis=0)
    # all >= 0 and no bias: divide by 255 -> scale 1; the zero channel gets the 1e-5 floor
    assert q.signed is False
    assert q.scales.tolist() == [1.0, 1e-5]
    assert q.values.dtype == np.uint8
    assert q.values.tolist() == [[255, 128], [0, 0]]
    with_bias = quantize_weight_per_channel(w, axis=0, has_bias=True)
    # a bias forces signed: 255/127 per step, 255 -> 127, 127.5 -> 63.5 -> 64
    assert with_bias.signed is True
    assert with_bias.values.tolist() == [[127, 64], [0, 0]]


def test_quantize_weight_per_channel_other_axis_and_floor() -> None:
    w = np.array([[1e-9, 127.0], [-1e-9, -63.5]])
    q = quantize_weight_per_channel(w, axis=1)
    # column 0: max 1e-9 / 127 < 1e-5 -> floor 1e-5, 1e-9/1e-5 = 1e-4 -> 0
    # column 1: scale 1 -> 127, -63.5 -> -64
    assert q.scales.tolist() == [1e-5, 1.0]
    assert q.values.tolist() == [[0, 127], [0, -64]]


def test_quantize_weight_per_channel_matches_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED + 1)
    w = rng.normal(0, 0.3, (6, 3, 3, 3)).astype(np.float32)
    q = quantize_weight_per_channel(w, axis=0, has_bias=True)
    for c in range(6):
        w_max = max(abs(float(v)) for v in w[c].ravel())
        scale = max(w_max / 127.0, 1e-5)
        assert q.scales[c] == scale
        for pos, v in np.ndenumerate(w[c]):
            code = ref_round(Fraction(float(v) / scale), "half_away_from_zero")
            assert q.values[c][pos] == min(max(code, -128), 127)


def test_quantize_bias_by_hand() -> None:
    got = quantize_bias([1.0, -2.5], [0.5, 1.0], 1.0)
    # 1/(0.5*1) = 2; -2.5/1 = -2.5 -> -3 (half away from zero)
    assert got.dtype == np.int32
    assert got.tolist() == [2, -3]
    zp = quantize_bias([1.0, -2.5], [0.5, 1.0], 1.0, w_q_sum=[10, -4], in_zp=3)
    # 2 - 10*3 = -28; -2.5 - (-4*3) = 9.5 -> 10
    assert zp.tolist() == [-28, 10]
    assert quantize_bias([1e10, -1e10], 1.0, 1.0).tolist() == [2**31 - 1, -(2**31)]


def test_quantize_bias_matches_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED + 2)
    b = rng.normal(0, 2.0, 50)
    w_scale = 10.0 ** rng.uniform(-4, -1, 50)
    w_q_sum = rng.integers(-5000, 5000, 50)
    got = quantize_bias(b, w_scale, 0.02, w_q_sum=w_q_sum, in_zp=-7)
    for bi, si, sumi, g in zip(
        b.tolist(), w_scale.tolist(), w_q_sum.tolist(), got.tolist(), strict=True
    ):
        real = bi / (si * 0.02) - sumi * -7  # the float64 quotient, then the exact rounding
        assert g == ref_round(Fraction(real), "half_away_from_zero")
