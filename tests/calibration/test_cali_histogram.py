"""The |x| histogram: bins and extension against a slow element-by-element reference."""

from __future__ import annotations

import numpy as np
import pytest

from sophonc.calibration import histogram as histogram_module
from sophonc.calibration.histogram import AbsHistogram, bin_magnitudes, edge_shifted_indices
from sophonc.calibration.statistics import StatisticsOptions, TensorStatistics


def slow_bin(values: list[np.float32], limit: float, bins: int) -> np.ndarray:
    """TPU-MLIR's ``histogram()``: ``floor(|x| / width + 0.5)`` in float32, then np.histogram."""
    width32 = np.float32(limit / (bins - 1))
    indices = [
        np.floor(np.float32(abs(value) / width32) + np.float32(0.5))
        for value in values
        if value != 0
    ]
    counts, _ = np.histogram(np.array(indices, np.float32), bins=bins, range=(0, bins - 1))
    return counts.astype(np.int64)


def slow_histogram(samples: list[np.ndarray], bins: int, max_bins: int) -> tuple[np.ndarray, float]:
    """TPU-MLIR's histogram / combine_histogram over a run of samples, in plain Python."""
    low = high = None
    counts: np.ndarray | None = None
    limit = 0.0
    limit_is_f32 = True
    for sample in samples:
        values = [np.float32(v) for v in sample.reshape(-1)]
        lo, hi = min(values), max(values)
        low = lo if low is None else min(lo, low)
        high = hi if high is None else max(hi, high)
        abs_max = max(abs(low), abs(high))
        if max(abs(lo), abs(hi)) < 1e-8:
            continue
        if counts is None:
            counts, limit, limit_is_f32 = (
                slow_bin(values, float(abs_max), bins),
                float(abs_max),
                True,
            )
        elif float(abs_max) <= limit:
            counts = counts + slow_bin(values, limit, len(counts))
        else:
            step = limit / len(counts)
            gap = float(abs_max - np.float32(limit)) if limit_is_f32 else float(abs_max) - limit
            added = int(gap // step + 1)
            if len(counts) + added > max_bins:
                counts, limit, limit_is_f32 = (
                    slow_bin(values, float(abs_max), bins),
                    float(abs_max),
                    True,
                )
                continue
            new_limit = added * step + limit
            extended = slow_bin(values, new_limit, len(counts) + added)
            extended[: len(counts)] += counts
            counts, limit, limit_is_f32 = extended, new_limit, False
    assert counts is not None
    return counts, limit / (len(counts) - 1)


def growing_samples(seed: int, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    samples = []
    for index in range(count):
        scale = float(rng.uniform(0.5, 1.5)) * (1 + 0.6 * index)
        size = int(rng.integers(20, 160))
        samples.append((rng.standard_normal(size) * scale).astype(np.float32))
    return samples


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_extension_matches_slow_reference(seed: int) -> None:
    samples = growing_samples(seed, 7)
    stats = TensorStatistics(StatisticsOptions(histogram_bins=64))
    for sample in samples:
        stats.update(sample)
    expected_counts, expected_width = slow_histogram(
        samples, 64, histogram_module.MAX_EXTENDED_BINS
    )
    histogram = stats.histogram
    assert histogram is not None
    counts, width = histogram
    assert counts.size > 64, "the samples were meant to extend the histogram"
    np.testing.assert_array_equal(counts, expected_counts)
    assert width == expected_width
    assert counts.sum() == sum(np.count_nonzero(s) for s in samples)


def test_restart_beyond_the_bin_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(histogram_module, "MAX_EXTENDED_BINS", 50)
    samples = [np.array([0.5, -1.0, 0.25], np.float32), np.array([3.0, 0.1], np.float32)]
    hist = AbsHistogram(bins=32)
    hist.add(samples[0], np.float32(1.0))
    hist.add(samples[1], np.float32(3.0))
    expected, _ = slow_histogram(samples, 32, 50)
    assert hist.counts is not None
    assert hist.counts.size == 32, "past the limit the histogram starts over with 32 bins"
    np.testing.assert_array_equal(hist.counts, expected)
    # only the second sample is left: |3.0| in the last bin, |0.1| in bin floor(0.1/(3/31)+0.5)=1
    assert hist.counts.sum() == 2 and hist.counts[31] == 1 and hist.counts[1] == 1


def test_centred_bins_by_hand() -> None:
    # limit 3.0 over 4 bins: width 1.0; |x| = 0.4 -> 0, 0.5 -> 1, 1.6 -> 2, 3.0 -> 3; zeros left out
    sample = np.array([0.4, -0.5, 1.6, -3.0, 0.0, 0.0], np.float32)
    np.testing.assert_array_equal(bin_magnitudes(sample, 3.0, 4), [1, 1, 1, 1])


@pytest.mark.parametrize("bins", [2048, 7432, 100_000])
def test_bins_equal_numpy_histogram_on_every_index(bins: int) -> None:
    # one value per bin centre: numpy's float32 edges move some indices up one bin
    limit = 3.0
    width32 = np.float32(limit / (bins - 1))
    centres = (np.arange(1, bins, dtype=np.float32) * width32).astype(np.float32)
    scaled = np.floor(centres / width32 + np.float32(0.5))
    expected, _ = np.histogram(scaled, bins=bins, range=(0, bins - 1))
    np.testing.assert_array_equal(bin_magnitudes(centres, limit, bins), expected)
    if bins == 7432:
        assert edge_shifted_indices(bins).tolist() == [7430]


def test_all_zero_samples_are_left_out() -> None:
    stats = TensorStatistics()
    stats.update(np.zeros(10, np.float32))
    stats.update(np.full(10, 1e-9, np.float32))
    assert stats.histogram is None
    stats.update(np.array([0.0, 2.0, -1.0], np.float32))
    histogram = stats.histogram
    assert histogram is not None
    assert histogram[0].sum() == 2
    assert stats.min == -1.0 and stats.max == 2.0 and stats.abs_max == 2.0


def test_memory_does_not_grow_with_samples() -> None:
    rng = np.random.default_rng(42)
    options = StatisticsOptions(mse_bits=(8, 4), aciq_bits=(8,), percentile=99.99, sample_count=50)
    stats = TensorStatistics(options)
    first = rng.uniform(-1, 1, 4096).astype(np.float32)
    first[:2] = [-1.0, 1.0]  # the range is reached at once, so the histogram never extends
    stats.update(first)
    for _ in range(9):
        stats.update(rng.uniform(-1, 1, 4096).astype(np.float32))
    after_ten = stats.state_nbytes()
    for _ in range(40):
        stats.update(rng.uniform(-1, 1, 4096).astype(np.float32))
    assert stats.sample_count == 50
    assert stats.state_nbytes() == after_ten
    assert after_ten > 0
