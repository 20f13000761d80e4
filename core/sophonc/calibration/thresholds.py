"""The ``--cali_method`` threshold algorithms and the canonicalisation every one ends in.

Each function reads a :class:`~sophonc.calibration.statistics.TensorStatistics` and
returns the threshold (the symmetric clipping value |x| <= t) TPU-MLIR would write
for it; :func:`table_entry` adds the min/max columns and the final clean-up.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence

from sophonc.calibration.kld import kl_threshold
from sophonc.calibration.statistics import TensorStatistics
from sophonc.calibration.table_entry import TableEntry
from sophonc.errors import SophonError

logger = logging.getLogger(__name__)

METHODS = ("kl", "max", "percentile9999", "mse", "aciq_gauss", "aciq_laplace")
#: Thresholds at or below this (and NaN) are written as this, as TPU-MLIR does.
MIN_THRESHOLD = 1e-5
#: Percentile of the first op; the last op's tends to ``PERCENTILE_LAST``.
PERCENTILE_FIRST = 99.99
PERCENTILE_LAST = 99.999999
#: KLD quantisation levels per bit width (int8 tables, and the ``#int4_th`` block).
KL_TARGET_BINS = {8: 128, 4: 8}

__all__ = [
    "METHODS",
    "aciq_gauss_threshold",
    "aciq_laplace_threshold",
    "canonical_method",
    "canonicalize",
    "kl_threshold",
    "max_threshold",
    "method_names",
    "mse_threshold",
    "percentile9999_threshold",
    "percentile_for_op",
    "table_entry",
    "tail_tensors_at_abs_max",
]


def method_names() -> tuple[str, ...]:
    """Every accepted ``--cali_method`` value: the six methods, then their ``use_`` aliases."""
    return METHODS + tuple(f"use_{method}" for method in METHODS)


def canonical_method(name: str) -> str:
    """The method a ``--cali_method`` value names (case-insensitive, ``use_`` prefix allowed)."""
    key = name.strip().lower()
    if key.startswith("use_") and key[4:] in METHODS:
        key = key[4:]
    if key not in METHODS:
        raise SophonError(
            f"unknown calibration method '{name}': use one of {', '.join(METHODS)} "
            f"(or the same with a use_ prefix)"
        )
    return key


def percentile_for_op(index: int, op_count: int) -> float:
    """TPU-MLIR's percentile (in percent) of op ``index`` of ``op_count`` ops.

    ``99.99 + index * (99.999999 - 99.99) / op_count``; every output of a multi-output
    op uses its op's value.
    """
    step = (PERCENTILE_LAST - PERCENTILE_FIRST) / op_count
    return PERCENTILE_FIRST + index * step


def max_threshold(stats: TensorStatistics) -> float:
    """``max``: ``abs_max = max(|min|, |max|)`` over all samples."""
    return stats.abs_max


def percentile9999_threshold(stats: TensorStatistics) -> float:
    """``percentile9999``: ``max(|v_min|, |v_max|)`` of the op's interpolated percentiles.

    ``v_min``/``v_max`` are computed by :class:`~sophonc.calibration.percentile.PercentileTracker`
    (the stats must collect it, with ``p`` from :func:`percentile_for_op`).
    """
    low, high = stats.percentile.value_range()
    return max(abs(low), abs(high))


def mse_threshold(stats: TensorStatistics, *, bits: int = 8, use_abs_max: bool = False) -> float:
    """``mse``: ``min(mean over samples of the per-sample estimate, abs_max)``.

    The per-sample estimate is the iteration of
    :func:`~sophonc.calibration.estimators.mse_clip_estimate`. ``use_abs_max`` gives
    ``abs_max`` instead: TPU-MLIR does that for input tensors, and for the trailing
    outputs picked by :func:`tail_tensors_at_abs_max`.
    """
    if use_abs_max:
        return stats.abs_max
    return min(stats.mse_mean(bits), stats.abs_max)


def aciq_gauss_threshold(
    stats: TensorStatistics, *, bits: int = 8, use_abs_max: bool = False
) -> float:
    """``aciq_gauss``: ``min(mean over samples of alpha * std, abs_max)``.

    ``std = (max - min) * 0.175 * (1 + sqrt(pi ln 4)) / sqrt(2 ln N)`` per sample (``N``
    its element count), ``alpha`` 3.92403337 for 8 bits and 2.55913642 for 4 bits.
    ``use_abs_max`` as for :func:`mse_threshold`.
    """
    if use_abs_max:
        return stats.abs_max
    return _clip_keep_nan(stats.aciq_gauss_mean(bits), stats.abs_max)


def aciq_laplace_threshold(
    stats: TensorStatistics, *, bits: int = 8, use_abs_max: bool = False
) -> float:
    """``aciq_laplace``: ``min(mean over samples of beta * mean|x - mean(x)|, abs_max)``.

    ``beta`` is 9.89675982 for 8 bits and 5.02864014 for 4 bits. ``use_abs_max`` as for
    :func:`mse_threshold`.
    """
    if use_abs_max:
        return stats.abs_max
    return _clip_keep_nan(stats.aciq_laplace_mean(bits), stats.abs_max)


def _clip_keep_nan(value: float, limit: float) -> float:
    """``value`` if not above ``limit`` (NaN stays NaN, as TPU-MLIR's ``if v > limit`` keeps it)."""
    return limit if value > limit else value


def tail_tensors_at_abs_max(
    tail: Sequence[tuple[str, bool]], stats: Mapping[str, TensorStatistics]
) -> list[str]:
    """The trailing tensors that ``mse``/``aciq_*`` keep at ``abs_max``.

    ``tail`` is the last five calibrated tensors of the graph, **last first**, each
    with whether its op is a Conv or MatMul. Walking it, TPU-MLIR stops at the first
    tensor whose |x| percentile (its op's ``p``) differs from its abs-max, and after
    the first Conv/MatMul; the tensors passed get that percentile, which then equals
    their abs-max. Their stats must collect the percentile.
    """
    chosen: list[str] = []
    for name, is_conv_or_matmul in tail:
        tensor = stats[name]
        if tensor.percentile.abs_value() != tensor.abs_max:
            break
        chosen.append(name)
        if is_conv_or_matmul:
            break
    return chosen


def canonicalize(name: str, threshold: float, abs_max: float) -> float:
    """Clip ``threshold`` to ``abs_max``; a result <= 1e-5 or NaN becomes 1e-5 (logged).

    A tensor whose abs-max is itself <= 1e-5 counts as having abs-max 1e-5, so its
    threshold always ends at 1e-5.
    """
    limit = max(abs_max, MIN_THRESHOLD)
    if threshold > limit:
        threshold = limit
    if math.isnan(threshold) or threshold <= MIN_THRESHOLD:
        logger.warning(
            "tensor %s: threshold is zero; written as %g (check the calibration inputs)",
            name,
            MIN_THRESHOLD,
        )
        return MIN_THRESHOLD
    return threshold


def _method_threshold(
    method: str, name: str, stats: TensorStatistics, bits: int, use_abs_max: bool
) -> float:
    if method == "kl":
        histogram = stats.histogram
        if histogram is None:
            logger.warning("tensor %s has no histogram (all samples ~zero); kl uses 1.0", name)
            return 1.0
        counts, width = histogram
        return kl_threshold(counts, width, target_bins=KL_TARGET_BINS[bits])
    if method == "max":
        return max_threshold(stats)
    if method == "percentile9999":
        return percentile9999_threshold(stats)
    if method == "mse":
        return mse_threshold(stats, bits=bits, use_abs_max=use_abs_max)
    if method == "aciq_gauss":
        return aciq_gauss_threshold(stats, bits=bits, use_abs_max=use_abs_max)
    return aciq_laplace_threshold(stats, bits=bits, use_abs_max=use_abs_max)


def table_entry(
    method: str, name: str, stats: TensorStatistics, *, bits: int = 8, use_abs_max: bool = False
) -> TableEntry:
    """The table row TPU-MLIR writes for tensor ``name`` (before ``kl``'s tune step).

    min/max are the running min/max; for ``percentile9999`` they are ``v_min``/``v_max``
    clipped into that range. A tensor whose abs-max is <= 1e-5 is all zeros: its
    min/max become ``-1e-5`` (if min < 0, else 0) and ``1e-5``. With ``bits=4`` the row
    is an ``#int4_th`` row: KLD over 8 levels and min/max ``-t*8/7``, ``t``.
    """
    method = canonical_method(method)
    low, high, abs_max = stats.min, stats.max, stats.abs_max
    if abs_max <= MIN_THRESHOLD:
        logger.warning("tensor %s is all zeros; check the calibration inputs", name)
        low, high, abs_max = (-MIN_THRESHOLD if low < 0 else 0.0), MIN_THRESHOLD, MIN_THRESHOLD
    raw = _method_threshold(method, name, stats, bits, use_abs_max)
    threshold = canonicalize(name, raw, abs_max)
    if bits == 4:
        return TableEntry(threshold, -threshold * 8.0 / 7.0, threshold)
    if method == "percentile9999":
        v_min, v_max = stats.percentile.value_range()
        return TableEntry(threshold, max(v_min, low), min(v_max, high))
    return TableEntry(threshold, low, high)
