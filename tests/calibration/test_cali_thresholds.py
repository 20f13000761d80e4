"""mse / aciq / max / percentile thresholds against direct formulas, and canonicalisation."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from sophonc.calibration.statistics import (
    CalibrationStatistics,
    StatisticsOptions,
    TensorStatistics,
)
from sophonc.calibration.thresholds import (
    aciq_gauss_threshold,
    aciq_laplace_threshold,
    canonical_method,
    canonicalize,
    max_threshold,
    method_names,
    mse_threshold,
    percentile9999_threshold,
    table_entry,
    tail_tensors_at_abs_max,
)
from sophonc.errors import SophonError


def direct_mse(x: np.ndarray, bits: int) -> float:
    """The iteration written out in float64."""
    a = np.abs(x.astype(np.float64))
    u = 4 if abs(x.min()) < 1e-6 else 1
    s = a.sum() / np.count_nonzero(a)
    for _ in range(20):
        above = a > s
        nxt = a[above].sum() / (4.0**-bits / 3 / u * (~above).sum() + above.sum())
        if abs(nxt - s) < 1e-6:
            break
        s = nxt
    return float(s)


def direct_gauss(x: np.ndarray, bits: int) -> float:
    alpha = {8: 3.92403337, 4: 2.55913642}[bits]
    std = (float(x.max()) - float(x.min())) * 0.175 * (1 + math.sqrt(math.pi * math.log(4)))
    return alpha * std / math.sqrt(2 * math.log(x.size))


def direct_laplace(x: np.ndarray, bits: int) -> float:
    beta = {8: 9.89675982, 4: 5.02864014}[bits]
    v = x.astype(np.float64)
    return beta * float(np.mean(np.abs(v - v.mean())))


def samples_of(seed: int, relu: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for index in range(6):
        x = rng.standard_normal(3000) * (0.5 + index)
        out.append((np.maximum(x, 0) if relu else x).astype(np.float32))
    return out


def collected(samples: list[np.ndarray], **options: object) -> TensorStatistics:
    stats = TensorStatistics(StatisticsOptions(**options))  # type: ignore[arg-type]
    for sample in samples:
        stats.update(sample)
    return stats


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("bits", [8, 4])
def test_mse_is_the_averaged_iteration(relu: bool, bits: int) -> None:
    samples = samples_of(3, relu)
    stats = collected(samples, mse_bits=(bits,))
    expected = sum(direct_mse(x, bits) for x in samples) / len(samples)
    assert stats.mse_mean(bits) == pytest.approx(expected, rel=1e-5)
    assert mse_threshold(stats, bits=bits) == min(stats.mse_mean(bits), stats.abs_max)
    assert mse_threshold(stats, bits=bits, use_abs_max=True) == stats.abs_max


def test_mse_by_hand() -> None:
    # [1, 10]: s = 5.5, then 10 / (4^-8 / 3 * 1 + 1), then the same value again -> stop
    two = collected([np.array([1.0, 10.0], np.float32)], mse_bits=(8,))
    assert two.mse_mean(8) == pytest.approx(10 / (1 + 1 / (3 * 4**8)), rel=1e-12)
    # [0.5, 0.5]: s alternates 0.5 -> 0 -> 0.5 ... for all 20 steps and ends at 0.5
    flat = collected([np.full(2, 0.5, np.float32)], mse_bits=(8,))
    assert flat.mse_mean(8) == 0.5


def test_mse_is_clipped_to_abs_max(caplog: pytest.LogCaptureFixture) -> None:
    # an all-zero sample counts 1.0, which lifts the mean (about (0.2 + 1) / 2) above abs max 0.2
    with caplog.at_level(logging.WARNING):
        stats = collected(
            [np.array([0.1, 0.2], np.float32), np.zeros(2, np.float32)], mse_bits=(8,)
        )
    assert "all zeros" in caplog.text
    assert stats.mse_mean(8) == pytest.approx(0.6, rel=1e-5)
    assert mse_threshold(stats) == stats.abs_max == float(np.float32(0.2))


@pytest.mark.parametrize("bits", [8, 4])
def test_aciq_are_averaged_direct_formulas(bits: int) -> None:
    samples = samples_of(4)
    stats = collected(samples, aciq_bits=(bits,))
    gauss = sum(direct_gauss(x, bits) for x in samples) / len(samples)
    laplace = sum(direct_laplace(x, bits) for x in samples) / len(samples)
    assert stats.aciq_gauss_mean(bits) == pytest.approx(gauss, rel=1e-6)
    assert stats.aciq_laplace_mean(bits) == pytest.approx(laplace, rel=1e-5)
    assert aciq_gauss_threshold(stats, bits=bits) == min(stats.aciq_gauss_mean(bits), stats.abs_max)
    assert aciq_laplace_threshold(stats, bits=bits) == min(
        stats.aciq_laplace_mean(bits), stats.abs_max
    )
    assert aciq_laplace_threshold(stats, bits=bits, use_abs_max=True) == stats.abs_max


def test_max_and_percentile() -> None:
    samples = samples_of(5)
    stats = collected(samples, percentile=99.99, sample_count=len(samples))
    assert max_threshold(stats) == float(max(np.abs(s).max() for s in samples))
    v_min, v_max = stats.percentile.value_range()
    assert percentile9999_threshold(stats) == max(abs(v_min), abs(v_max))
    entry = table_entry("percentile9999", "t", stats)
    assert (entry.min, entry.max) == (v_min, v_max)
    assert entry.threshold == max(abs(v_min), abs(v_max)) <= stats.abs_max


def test_canonicalize(caplog: pytest.LogCaptureFixture) -> None:
    assert canonicalize("a", 3.0, 2.0) == 2.0
    assert canonicalize("a", 1.5, 2.0) == 1.5
    with caplog.at_level(logging.WARNING):
        assert canonicalize("tensor_zero", 0.0, 2.0) == 1e-5
        assert canonicalize("tensor_nan", math.nan, 2.0) == 1e-5
        assert canonicalize("tensor_tiny", 0.3, 1e-7) == 1e-5
    text = caplog.text
    assert "tensor_zero" in text and "tensor_nan" in text and "tensor_tiny" in text


def test_all_zero_tensor_row(caplog: pytest.LogCaptureFixture) -> None:
    stats = collected([np.zeros(8, np.float32), np.full(8, -1e-9, np.float32)], mse_bits=(8,))
    with caplog.at_level(logging.WARNING):
        kl = table_entry("kl", "dead", stats)
        mse = table_entry("mse", "dead", stats)
    assert tuple(kl) == (1e-5, -1e-5, 1e-5)
    assert tuple(mse) == (1e-5, -1e-5, 1e-5)
    assert "dead" in caplog.text


def test_kl_row_and_int4_row() -> None:
    stats = collected(samples_of(6))
    row = table_entry("use_kl", "x", stats)
    assert 0 < row.threshold <= stats.abs_max
    assert (row.min, row.max) == (stats.min, stats.max)
    int4 = table_entry("kl", "x", stats, bits=4)
    assert int4.min == -int4.threshold * 8.0 / 7.0 and int4.max == int4.threshold


def test_tail_tensors() -> None:
    tail_options = StatisticsOptions(percentile=99.999999, sample_count=2)
    stats = CalibrationStatistics(
        StatisticsOptions(), per_tensor=dict.fromkeys(("out", "conv", "before"), tail_options)
    )
    rng = np.random.default_rng(8)
    for name in ("out", "conv", "before", "body"):
        for _ in range(2):
            stats.update(name, rng.standard_normal(50).astype(np.float32))
    with pytest.raises(ValueError, match="percentile extremes were not collected"):
        tail_tensors_at_abs_max([("body", False)], stats)
    # with k == 1 every |x| percentile is the abs max: walk stops after the Conv
    tail = [("out", False), ("conv", True), ("before", False)]
    assert tail_tensors_at_abs_max(tail, stats) == ["out", "conv"]
    wide = CalibrationStatistics(StatisticsOptions(percentile=50.0, sample_count=1))
    wide.update("out", np.arange(1, 101, dtype=np.float32))
    assert tail_tensors_at_abs_max([("out", False)], wide) == []


def test_method_names() -> None:
    names = method_names()
    assert names[:6] == ("kl", "max", "percentile9999", "mse", "aciq_gauss", "aciq_laplace")
    assert "use_kl" in names and "use_max" in names and "use_percentile9999" in names
    assert canonical_method("USE_MSE") == "mse"
    assert canonical_method(" kl ") == "kl"
    with pytest.raises(SophonError) as error:
        canonical_method("entropy")
    message = str(error.value)
    assert "\n" not in message and "entropy" in message
    assert all(method in message for method in names[:6])


def test_bad_values_name_the_tensor() -> None:
    stats = CalibrationStatistics()
    stats.update("good", np.ones(3, np.float32))
    with pytest.raises(SophonError, match=r"'broken'.*sample 1.*NaN"):
        stats.update("broken", np.array([1.0, np.nan], np.float32))
    assert list(stats) == ["good", "broken"] and len(stats) == 2
