"""Byte-indexed activation tables, against hand arithmetic and a Fraction reference."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from sophonc.quant import RoundMode, apply_lut, build_lut, lut_index, lut_inputs

SEED = 256


def identity(x: np.ndarray) -> np.ndarray:
    return x


def test_lut_inputs_by_hand() -> None:
    signed = lut_inputs(True)
    assert signed[[0, 1, 127, 128, 129, 255]].tolist() == [0, 1, 127, -128, -127, -1]
    assert lut_inputs(False)[[0, 128, 255]].tolist() == [0, 128, 255]


def test_identity_table_is_the_byte_reinterpretation() -> None:
    table = build_lut(identity, 1.0, 0, True, 1.0, 0, True)
    assert table.dtype == np.int8
    assert table.tolist() == list(range(128)) + list(range(-128, 0))


def test_saturation_and_zero_points_by_hand() -> None:
    triple = build_lut(lambda x: 3 * x, 1.0, 0, True, 1.0, 0, True)
    # idx 10 -> q 10 -> 30; idx 50 -> 150 -> 127; idx 200 -> q -56 -> -168 -> -128
    assert triple[[10, 50, 200]].tolist() == [30, 127, -128]
    shifted = build_lut(identity, 1.0, 0, True, 1.0, 5, True)
    # output zero point 5: q 0 -> 5, q 127 -> 132 -> 127, q -128 -> -123
    assert shifted[[0, 127, 128]].tolist() == [5, 127, -123]
    unsigned_in = build_lut(identity, 1.0, 3, False, 1.0, 0, True)
    # input zero point 3 on uint8 input: byte 3 is real 0, byte 0 is -3, byte 200 is 197
    assert unsigned_in[[3, 0, 200]].tolist() == [0, -3, 127]


def test_sigmoid_to_unsigned_by_hand() -> None:
    table = build_lut(lambda x: 1 / (1 + np.exp(-x)), 0.1, 0, True, 2.0**-8, 0, False)
    assert table.dtype == np.uint8
    # q 0: sigmoid(0) = 0.5, * 256 = 128
    assert int(table[0]) == 128
    # byte 255 is q -1: sigmoid(-0.1) = 0.4750208… * 256 = 121.605… -> 122
    assert int(table[255]) == 122
    # byte 128 is q -128: sigmoid(-12.8) = 2.76e-6 * 256 = 0.0007 -> 0
    assert int(table[128]) == 0


def test_rounding_mode_by_hand() -> None:
    # in_scale 0.5: byte 1 is 0.5, byte 255 is -0.5, byte 3 is 1.5
    away = build_lut(identity, 0.5, 0, True, 1.0, 0, True)
    assert away[[1, 255, 3]].tolist() == [1, -1, 2]
    even = build_lut(identity, 0.5, 0, True, 1.0, 0, True, RoundMode.HALF_TO_EVEN)
    assert even[[1, 255, 3]].tolist() == [0, 0, 2]
    up = build_lut(identity, 0.5, 0, True, 1.0, 0, True, "half_up")
    assert up[[1, 255, 3]].tolist() == [1, 0, 2]


def test_build_lut_refuses_non_elementwise_function() -> None:
    with pytest.raises(ValueError, match="elementwise"):
        build_lut(lambda x: np.sum(x), 1.0, 0, True, 1.0, 0, True)


def test_build_lut_matches_reference(ref_round) -> None:
    rng = np.random.default_rng(SEED)
    for _ in range(20):
        in_scale, out_scale = 10.0 ** rng.uniform(-3, 0, 2)
        in_signed, out_signed = bool(rng.integers(2)), bool(rng.integers(2))
        in_zp = int(rng.integers(-20, 20)) if in_signed else int(rng.integers(0, 40))
        out_zp = int(rng.integers(-20, 20)) if out_signed else int(rng.integers(0, 40))
        table = build_lut(np.tanh, in_scale, in_zp, in_signed, out_scale, out_zp, out_signed)
        lo, hi = (-128, 127) if out_signed else (0, 255)
        for idx in range(256):
            q = idx - 256 if in_signed and idx >= 128 else idx
            y = float(np.tanh((q - in_zp) * in_scale))  # the same float64 function value
            code = ref_round(Fraction(y / out_scale + out_zp), "half_away_from_zero")
            assert int(table[idx]) == min(max(code, lo), hi), idx


def test_apply_lut_by_hand() -> None:
    table = np.arange(256, dtype=np.int64).astype(np.uint8)  # table[i] = i
    q = np.array([-1, 0, 5, -128], dtype=np.int8)
    assert apply_lut(q, table).tolist() == [255, 0, 5, 128]
    assert apply_lut(np.array([255, 7], dtype=np.uint8), table).tolist() == [255, 7]
    assert lut_index([-1, 127, 255]).tolist() == [255, 127, 255]


def test_apply_lut_refuses_bad_input() -> None:
    table = np.zeros(256, dtype=np.int8)
    with pytest.raises(ValueError, match="int8 or uint8"):
        apply_lut([256], table)
    with pytest.raises(ValueError, match="shape"):
        apply_lut([1], np.zeros(255, dtype=np.int8))


def test_apply_lut_matches_reference() -> None:
    rng = np.random.default_rng(SEED + 1)
    table = rng.integers(-128, 128, 256).astype(np.int8)
    q = rng.integers(-128, 128, (3, 5, 7)).astype(np.int8)
    got = apply_lut(q, table)
    assert got.shape == q.shape
    assert got.dtype == np.int8
    for pos, value in np.ndenumerate(q):
        index = int(value) + 256 if value < 0 else int(value)
        assert got[pos] == table[index]
