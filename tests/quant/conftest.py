"""A slow, obviously-correct rounding reference on exact rationals for the quant tests.

Each mode is written in its textbook form on ``fractions.Fraction`` (no floats, no
bit tricks), so it is independent of the vectorised implementation under test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import pytest

HALF = Fraction(1, 2)


def exact_round(value: Fraction, mode: str) -> int:
    """``value`` rounded to an integer by the named TPU-MLIR rounding mode."""
    if mode == "half_away_from_zero":
        magnitude = math.floor(abs(value) + HALF)
        return magnitude if value >= 0 else -magnitude
    if mode == "half_up":
        return math.floor(value + HALF)
    if mode == "half_down":
        return math.ceil(value - HALF)
    if mode == "half_to_even":
        return round(value)  # Fraction.__round__ rounds ties to even
    if mode == "down":
        return math.floor(value)
    if mode == "up":
        return math.ceil(value)
    if mode == "towards_zero":
        return math.trunc(value)
    raise ValueError(mode)


@pytest.fixture
def ref_round() -> Callable[[Fraction, str], int]:
    """The exact reference rounding, as a fixture so every quant test file shares it."""
    return exact_round
