"""TPU-MLIR's KL-divergence threshold (its default ``--cali_method kl``).

TPU-MLIR computes it in C (``kl_diversity_hist``) with float32 arithmetic, and the
first minimum wins, so float rounding decides ties; this module reproduces that
arithmetic step by step instead of computing the same formula more accurately.
One deliberate difference: candidates that clip the whole histogram into their
last bin (a tensor with no values near zero) are not eligible; TPU-MLIR picks
them and clips such a tensor at its minimum.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Histograms longer than this are folded pairwise before the search.
MAX_KL_BINS = 64 * 2048
#: Added to P and Q before the logarithm.
LOG_FLOOR = 1e-30

Float32s = npt.NDArray[np.float32]


def _pad_to_multiple(counts: npt.NDArray[np.int64], multiple: int) -> npt.NDArray[np.int64]:
    remainder = counts.size % multiple
    if remainder == 0:
        return counts
    return np.concatenate((counts, np.zeros(multiple - remainder, np.int64)))


def kl_threshold(hist: npt.ArrayLike, width: float, *, target_bins: int = 128) -> float:
    """The |x| clipping threshold whose ``target_bins``-level quantisation loses least (KLD).

    Preparation: zero-pad ``hist`` to a multiple of ``target_bins``; while it is longer
    than 64*2048 bins, add neighbouring bins pairwise (``h[0::2] + h[1::2]``), pad again
    and double ``width``. Then, with ``N`` bins, ``T = sum(hist)`` and ``B = target_bins``,
    for every candidate ``i = B, 2B, ..., N``::

        P[j] = hist[j] for j < i-1,   P[i-1] = sum(hist[i-1:])   # outliers clipped in
        P   /= T                                                 # total incl. outliers
        Q   : hist[0:i] in B groups of i/B bins; each non-zero bin of a group gets
              group_sum / nonzero_bins_in_group / sum(hist[0:i]), zero bins get 0
        kl_i = sum_j P[j] * (log10(P[j] + 1e-30) - log10(Q[j] + 1e-30))

    and the threshold is ``width * (argmin_i + 1) * B`` (``argmin_i`` the 0-based index
    of the candidate, first minimum on ties). As in TPU-MLIR's C code, P, Q and all sums
    are float32 accumulated in bin order, each ``kl`` term is computed in double and
    added into a float32 running sum, and the product is formed in float32 from the
    width rounded to float32.
    """
    counts = np.asarray(hist).astype(np.int64).reshape(-1)
    if counts.size == 0:
        raise ValueError("the histogram is empty")
    if target_bins < 1:
        raise ValueError(f"target_bins must be positive, got {target_bins}")
    bin_width = float(width)
    counts = _pad_to_multiple(counts, target_bins)
    while counts.size > MAX_KL_BINS:
        counts = _pad_to_multiple(counts[0::2] + counts[1::2], target_bins)
        bin_width *= 2.0
    best = first_minimum_candidate(counts, target_bins)
    scaled = np.float32(np.float32(bin_width) * np.float32(best + 1))
    return float(np.float32(scaled * np.float32(target_bins)))


def _sequential_sum(values: Float32s) -> np.float32:
    """Left-to-right float32 sum (``np.sum`` would add pairwise and round differently)."""
    if values.size == 0:
        return np.float32(0.0)
    total: np.float32 = np.cumsum(values, dtype=np.float32)[-1]
    return total


def _group_levels(bins32: Float32s, candidate: int, groups: int, prefix: Float32s) -> Float32s:
    """Q's level per group for candidate ``candidate``: sum / nonzero bins / sum(hist[0:i])."""
    size = candidate + 1
    grouped = bins32[: groups * size].reshape(groups, size)
    sums = np.cumsum(grouped, axis=1, dtype=np.float32)[:, -1]
    nonzero = np.count_nonzero(grouped, axis=1).astype(np.float32)
    nonzero[nonzero == 0] = np.float32(1.0)
    total = prefix[groups * size - 1]
    # An all-zero prefix (total 0) gives NaN levels, as in TPU-MLIR's own C code;
    # that candidate then never wins. numpy's warning about it is noise.
    with np.errstate(invalid="ignore", divide="ignore"):
        levels: Float32s = (sums / nonzero) / total
    return levels


def first_minimum_candidate(counts: npt.NDArray[np.int64], target_bins: int) -> int:
    """Index ``m`` (candidate ``i = (m+1) * target_bins``) of the first minimal divergence.

    ``counts`` must already be padded to a multiple of ``target_bins``. The float32
    running sums of all candidates advance together, bin by bin, so each one sees
    its terms in the same order as the C loop; bins whose terms are all zero are
    skipped, which leaves a float32 sum unchanged.
    """
    groups = target_bins
    candidates = counts.size // groups
    total = int(counts.sum())
    if total == 0:
        return 0
    bins32 = counts.astype(np.float32)
    prefix = np.cumsum(bins32, dtype=np.float32)
    total32 = np.float32(total)
    nonzero_bin = counts != 0
    levels = np.stack([_group_levels(bins32, m, groups, prefix) for m in range(candidates)])
    divergence = np.zeros(candidates, np.float32)
    for block in range(candidates):
        columns = np.arange(block * groups, (block + 1) * groups)
        active = np.arange(block, candidates)
        p = np.broadcast_to(bins32[columns] / total32, (active.size, groups)).copy()
        p[0, -1] = _sequential_sum(bins32[columns[-1] :]) / total32
        group_of = columns[None, :] // (active[:, None] + 1)
        q = np.where(nonzero_bin[columns][None, :], levels[active[:, None], group_of], 0)
        p64 = p.astype(np.float64)
        q64 = q.astype(np.float64)
        terms = p64 * (np.log10(p64 + LOG_FLOOR) - np.log10(q64 + LOG_FLOOR))
        running = divergence[block:]
        for column in np.flatnonzero(np.any(terms != 0, axis=0)):
            running = (running.astype(np.float64) + terms[:, column]).astype(np.float32)
        divergence[block:] = running
    # A candidate below which the histogram is empty clips *everything* into its
    # last bin: P and Q then agree trivially and its divergence is ~0, so TPU-MLIR
    # picks it and clips a tensor bounded away from zero (values in [0.6, 2.8]) at
    # its minimum. Such candidates say nothing about the distribution: skip them.
    ends = (np.arange(candidates) + 1) * groups - 2
    empty_below = prefix[np.maximum(ends, 0)] == 0
    if empty_below.any() and not empty_below.all():
        divergence = np.where(empty_below, np.float32(np.inf), divergence)
    return int(np.argmin(divergence))
