"""Per-sample threshold estimates that TPU-MLIR averages over the samples.

``mse``, ``aciq_gauss`` and ``aciq_laplace`` are not computed from pooled
statistics: TPU-MLIR evaluates a formula on each sample and averages the results.
Each function here is that formula for one flattened float32 sample; the
arithmetic follows TPU-MLIR's numpy 1.24 types (float32 sums, float32 comparisons
against the running estimate, float64 for the rest) so the averages agree.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

MSE_ITERATIONS = 20
MSE_TOLERANCE = 1e-6
#: A sample whose minimum is within this of zero is treated as unsigned by ``mse``.
UNSIGNED_LIMIT = 1e-6
#: ``0.5 * 0.35 * (1 + sqrt(pi * ln 4))``: the range-to-std factor of ``aciq_gauss``.
GAUSS_RANGE_FACTOR = (0.5 * 0.35) * (1 + float((math.pi * math.log(4)) ** 0.5))
#: ``alpha`` of ``aciq_gauss`` and ``beta`` of ``aciq_laplace`` by bit width.
ACIQ_GAUSS_ALPHA = {8: 3.92403337, 4: 2.55913642}
ACIQ_LAPLACE_BETA = {8: 9.89675982, 4: 5.02864014}

#: numpy 1.24 reduces in blocks of this many elements (its iterator buffer size).
NUMPY_REDUCE_BLOCK = 8192

Sample = npt.NDArray[np.float32]


def float32_sum(values: Sample) -> np.float32:
    """The float32 sum numpy 1.24 (TPU-MLIR's pin) computes for ``values.sum()``.

    numpy 1.24 adds pairwise inside blocks of 8192 elements and adds the block sums
    left to right in float32; numpy 2 sums the whole array pairwise, which rounds
    differently. Rows of 8192 are still summed pairwise by numpy 2, so this gives
    numpy 1.24's result on either version.
    """
    flat = values.reshape(-1)
    whole = flat.size - flat.size % NUMPY_REDUCE_BLOCK
    parts = np.add.reduce(flat[:whole].reshape(-1, NUMPY_REDUCE_BLOCK), axis=1, dtype=np.float32)
    if whole < flat.size:
        parts = np.append(parts, np.add.reduce(flat[whole:], dtype=np.float32))
    if parts.size == 0:
        return np.float32(0.0)
    total: np.float32 = np.cumsum(parts, dtype=np.float32)[-1]
    return total


def mse_clip_estimate(sample: Sample, bits: int = 8) -> float:
    """The clipping value that minimises the quantisation MSE of one sample.

    Fixed-point iteration from ``s = sum|x| / count(|x| > 0)``::

        s <- sum(|x| > s) / ( 4^-bits / 3 / u * count(|x| <= s) + count(|x| > s) )

    with ``u = 4`` when ``min(x)`` is within 1e-6 of 0 (one-sided data) and 1
    otherwise, at most 20 times, stopping (and keeping the previous ``s``) once a
    step changes it by less than 1e-6. An all-zero sample gives 1.0, as in TPU-MLIR.
    """
    unsigned = 4 if abs(float(sample.min())) < UNSIGNED_LIMIT else 1
    magnitudes = np.abs(sample)
    nonzero = int(np.count_nonzero(magnitudes))
    if nonzero == 0:
        logger.warning("mse: a sample is all zeros; its estimate counts as 1.0")
        return 1.0
    below_weight = 1 / (4**bits) / 3 / unsigned
    estimate = float(float32_sum(magnitudes)) / nonzero
    for _ in range(MSE_ITERATIONS):
        above = magnitudes[magnitudes > np.float32(estimate)]
        below_count = magnitudes.size - above.size
        refined = float(float32_sum(above)) / (below_weight * below_count + above.size)
        if abs(refined - estimate) < MSE_TOLERANCE:
            break
        estimate = refined
    return estimate


def aciq_gauss_estimate(low: np.float32, high: np.float32, numel: int, bits: int = 8) -> float:
    """``alpha * (max - min) * 0.175 * (1 + sqrt(pi ln 4)) / sqrt(2 ln N)`` for one sample.

    ``N`` is the sample's element count; a one-element sample has no spread
    estimate and gives NaN (which the final canonicalisation turns into 1e-5).
    """
    if numel < 2:
        return math.nan
    spread = float(np.float32(high) - np.float32(low))
    std = (spread * GAUSS_RANGE_FACTOR) / float((2 * math.log(numel)) ** 0.5)
    return ACIQ_GAUSS_ALPHA[bits] * std


def _float32_mean(values: Sample) -> np.float32:
    """numpy 1.24's float32 mean: a float32 sum divided in float64, rounded to float32."""
    return np.float32(float(float32_sum(values)) / values.size)


def aciq_laplace_estimate(sample: Sample, bits: int = 8) -> float:
    """``beta * mean|x - mean(x)|`` for one sample (float32 means, as TPU-MLIR's numpy gives)."""
    deviation = _float32_mean(np.abs(sample - _float32_mean(sample)))
    return ACIQ_LAPLACE_BETA[bits] * float(deviation)
