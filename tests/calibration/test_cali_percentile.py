"""Streaming percentile extremes equal TPU-MLIR's batch computation over the whole pool."""

from __future__ import annotations

import numpy as np
import pytest

from sophonc.calibration.percentile import PercentileTracker
from sophonc.calibration.thresholds import percentile_for_op


def batch_percentiles(samples: list[np.ndarray], p: float) -> tuple[float, float, float]:
    """TPU-MLIR: per-sample sorted head/tail slices, pooled, sorted, interpolated."""
    count, numel = len(samples), samples[0].size
    k = int(count * numel * (1 - p / 100)) + 1
    pool: np.ndarray = np.array([])
    for sample in samples:
        ordered = np.sort(sample.reshape(-1))
        pool = np.concatenate((pool, ordered[:k], ordered[-k:]))
    res = np.sort(pool)
    res_max, res_min = res[-k:], res[:k][::-1]
    position = (p / 100) * (count * numel - 1)
    ratio = position - int(position)
    v_max = res_max[0] + ratio * (res_max[1] - res_max[0]) if k != 1 else res_max[0]
    v_min = res_min[0] + ratio * (res_min[1] - res_min[0]) if k != 1 else res_min[0]
    res_abs = np.sort(np.abs(pool))[-k:]
    v_abs = res_abs[0] + ratio * (res_abs[1] - res_abs[0]) if k != 1 else res_abs[0]
    return float(v_min), float(v_max), float(v_abs)


def run(samples: list[np.ndarray], p: float) -> PercentileTracker:
    tracker = PercentileTracker(p, len(samples))
    for sample in samples:
        tracker.add(sample.reshape(-1))
    return tracker


@pytest.mark.parametrize(
    ("seed", "count", "numel", "p"),
    [
        (0, 20, 5000, 99.99),  # k = 11
        (1, 3, 300, 99.99),  # k = 1: no interpolation
        (2, 50, 2000, percentile_for_op(7, 40)),
        (3, 4, 10, 70.0),  # k = 13 > numel: each sample's slices overlap (duplicates)
        (4, 6, 64, 90.0),  # 2k close to numel
    ],
)
def test_streaming_equals_batch(seed: int, count: int, numel: int, p: float) -> None:
    rng = np.random.default_rng(seed)
    samples = [rng.laplace(size=numel).astype(np.float32) * (1 + i % 3) for i in range(count)]
    tracker = run(samples, p)
    v_min, v_max, v_abs = batch_percentiles(samples, p)
    assert tracker.value_range() == (v_min, v_max)
    assert tracker.abs_value() == v_abs


def test_ties_and_one_sided_data() -> None:
    rng = np.random.default_rng(11)
    samples = [
        np.round(np.abs(rng.standard_normal(3000)) * 4).astype(np.float32) / 4 for _ in range(9)
    ]
    tracker = run(samples, 99.9)
    v_min, v_max, v_abs = batch_percentiles(samples, 99.9)
    assert tracker.value_range() == (v_min, v_max)
    assert tracker.abs_value() == v_abs


def test_memory_is_two_k_values() -> None:
    rng = np.random.default_rng(12)
    tracker = PercentileTracker(99.9, 40)
    for _ in range(40):
        tracker.add(rng.standard_normal(1000).astype(np.float32))
    # int(40 * 1000 * (1 - 0.999)) + 1: the float product is 39.99999..., so k = 40
    assert tracker.keep == 40
    assert tracker.nbytes == 2 * 40 * 4


def test_sample_count_must_match() -> None:
    tracker = PercentileTracker(99.99, 3)
    tracker.add(np.arange(10, dtype=np.float32))
    with pytest.raises(ValueError, match="set up for 3 samples but saw 1"):
        tracker.value_range()
    with pytest.raises(ValueError, match="has 4 values"):
        tracker.add(np.arange(4, dtype=np.float32))


def test_percentile_for_op() -> None:
    assert percentile_for_op(0, 10) == 99.99
    assert percentile_for_op(5, 10) == pytest.approx(99.99 + 5 * (99.999999 - 99.99) / 10)
    assert percentile_for_op(9, 10) < 99.999999
