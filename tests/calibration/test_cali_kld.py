"""The KLD threshold against a slow loop-by-loop re-implementation and hand-made histograms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sophonc.calibration.kld import MAX_KL_BINS, kl_threshold

f32 = np.float32


def sequential_sum(values: list[int]) -> np.float32:
    total = f32(0.0)
    for value in values:
        total = f32(total + f32(value))
    return total


def slow_kl_threshold(hist: list[int], width: float, target_bins: int = 128) -> float:
    """TPU-MLIR's procedure, one bin at a time, float32 accumulation (no folding)."""
    h = list(hist) + [0] * ((-len(hist)) % target_bins)
    total = sum(h)
    divergences = []
    for candidate in range(len(h) // target_bins):
        i = (candidate + 1) * target_bins
        p = [f32(h[j]) for j in range(i - 1)] + [sequential_sum(h[i - 1 :])]
        p = [f32(value / f32(total)) for value in p]
        kept = sequential_sum(h[:i])
        size = i // target_bins
        q: list[np.float32] = []
        for group in range(target_bins):
            members = h[group * size : (group + 1) * size]
            nonzero = sum(1 for value in members if value > 0) or 1
            with np.errstate(invalid="ignore", divide="ignore"):  # kept 0: NaN, never wins
                level = f32(f32(sequential_sum(members) / f32(nonzero)) / kept)
            q += [level if value else f32(0.0) for value in members]
        divergence = f32(0.0)
        for pj, qj in zip(p, q, strict=True):
            term = float(pj) * (math.log10(float(pj) + 1e-30) - math.log10(float(qj) + 1e-30))
            divergence = f32(float(divergence) + term)
        # a candidate below which the histogram is empty is not eligible
        divergences.append(divergence if sum(h[: i - 1]) else f32(math.inf))
    if all(math.isinf(d) for d in divergences):
        divergences = [f32(0.0)] * len(divergences)
    best = divergences.index(min(divergences))
    return float(f32(f32(f32(width) * f32(best + 1)) * f32(target_bins)))


def data_histogram(values: np.ndarray, bins: int) -> tuple[list[int], float]:
    magnitudes = np.abs(values[values != 0])
    width = float(magnitudes.max()) / (bins - 1)
    counts = np.bincount(np.floor(magnitudes / width + 0.5).astype(np.int64), minlength=bins)
    return counts[:bins].tolist(), width


@pytest.mark.parametrize(
    ("kind", "seed", "scale"),
    [("gauss", 0, 1), ("laplace", 1, 1), ("gauss", 2, 977), ("laplace", 3, 4093)],
)
def test_matches_slow_reference(kind: str, seed: int, scale: int) -> None:
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(20000) if kind == "gauss" else rng.laplace(size=20000)
    counts, width = data_histogram(values, 2048)
    counts = [count * scale for count in counts]  # large counts make float32 rounding matter
    assert kl_threshold(counts, width) == slow_kl_threshold(counts, width)


def test_int4_levels_match_slow_reference() -> None:
    rng = np.random.default_rng(5)
    counts, width = data_histogram(rng.laplace(size=5000), 256)
    assert kl_threshold(counts, width, target_bins=8) == slow_kl_threshold(counts, width, 8)


def test_tie_takes_the_first_candidate() -> None:
    # all mass in the first 128 bins: both candidates reproduce P exactly (KL = 0)
    counts = [1] * 128 + [0] * 128
    assert kl_threshold(counts, 0.5) == 0.5 * 1 * 128


def test_outliers_make_the_wider_candidate_win() -> None:
    # i=128 clips the 100 counts of bin 200 into bin 127, where Q is 0: a huge divergence;
    # i=256 keeps them, and its 2-bin groups reproduce P exactly
    counts = [0] * 256
    counts[0], counts[200] = 1, 100
    width = 0.01
    expected = float(f32(f32(f32(width) * f32(2)) * f32(128)))
    assert kl_threshold(counts, width) == expected
    assert abs(expected - 2.56) < 1e-6


def test_padding_to_a_multiple_of_the_levels() -> None:
    rng = np.random.default_rng(7)
    counts, width = data_histogram(rng.standard_normal(5000), 2000)
    padded = counts + [0] * 48
    assert kl_threshold(counts, width) == kl_threshold(padded, width)
    assert kl_threshold(counts, width) == slow_kl_threshold(counts, width)


def test_long_histograms_are_folded_pairwise() -> None:
    rng = np.random.default_rng(9)
    bins = MAX_KL_BINS + 3000
    counts = np.bincount(rng.integers(0, bins, 50000) // 7 * 7, minlength=bins)
    width = 0.001
    folded = counts[0::2] + counts[1::2]  # 67036 bins: padded to 67072, short enough
    assert folded.size <= MAX_KL_BINS
    assert kl_threshold(counts, width) == kl_threshold(folded, 2 * width)


def test_a_tensor_bounded_away_from_zero_is_not_clipped_at_its_minimum() -> None:
    """Values in [0.6, 2.8]: every candidate below 0.6 sees an empty histogram and
    would win with a zero divergence (TPU-MLIR's choice); the threshold must cover
    the bulk of the values instead."""
    values = np.random.default_rng(9).uniform(0.6, 2.8, 20000).astype(np.float32)
    counts, width = data_histogram(values, 2048)
    threshold = kl_threshold(counts, width)
    assert threshold == slow_kl_threshold(counts, width)
    assert threshold > 2.0
    assert float(np.mean(values > threshold)) < 0.3
