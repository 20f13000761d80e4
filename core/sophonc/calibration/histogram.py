"""The streaming histogram of |x| that TPU-MLIR's KLD threshold is computed from.

TPU-MLIR bins every non-zero |x| of a tensor with *centred* bins over
``[0, limit]``::

    width = limit / (bins - 1)
    index = floor(|x| / width + 0.5)          # 0 .. bins-1

``limit`` starts as the tensor's running abs-max. A later sample whose running
abs-max is larger does not rebin the old counts: the histogram is *extended* by
``add = int((new - old) // (old / old_bins) + 1)`` bins, the new sample is binned
over ``old_bins + add`` bins with ``limit = old + add * old / old_bins``, and the old
counts are added into the first ``old_bins`` bins. (The step ``old / old_bins`` is not
the bin width ``old / (old_bins - 1)``; the drift is TPU-MLIR's and is kept, because
the KLD threshold depends on it.) Past 8 million bins TPU-MLIR drops the old counts
and starts over with ``bins`` bins over the new abs-max; so do we.

To give the same bins as TPU-MLIR (numpy 1.24, legacy casting) the division and the
``+ 0.5`` are done in float32 with the width rounded to float32, while the limits and
the extension arithmetic stay in float64 - except that the limit keeps its float32
value until the first extension, as it does there. TPU-MLIR then counts the integer
indices with ``np.histogram(bins=n, range=(0, n - 1))``, whose float32 bin edges
``k * (n - 1) / n`` can round down onto an integer: such an index ``v`` is counted in
bin ``v + 1``. :func:`edge_shifted_indices` finds those indices so that a plain
``bincount`` gives the same counts.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

logger = logging.getLogger(__name__)

#: Above this many bins TPU-MLIR restarts the histogram instead of extending it.
MAX_EXTENDED_BINS = 8_000_000

Counts = npt.NDArray[np.int64]


def edge_shifted_indices(bins: int) -> npt.NDArray[np.intp]:
    """Indices ``v`` that ``np.histogram(bins=n, range=(0, n - 1))`` counts in bin ``v + 1``.

    Its edges are numpy 1.24's ``linspace``: ``float32(k * ((bins - 1) / bins))`` in
    float64 before the cast, the last one exactly ``bins - 1``. An edge at or below
    ``v`` moves ``v`` up one bin; no edge can move it by more.
    """
    edges = np.arange(bins + 1, dtype=np.float64) * ((bins - 1) / bins)
    edges[-1] = bins - 1
    upper = edges.astype(np.float32)[1:bins]
    return np.flatnonzero(upper <= np.arange(bins - 1, dtype=np.float32))


def bin_magnitudes(sample: npt.NDArray[np.float32], limit: float, bins: int) -> Counts:
    """Count the non-zero |x| of a float32 ``sample`` into ``bins`` centred bins up to ``limit``.

    Values that land past the last bin are dropped, as ``np.histogram`` with a range
    drops them in TPU-MLIR. Zeros are binned with the rest (they fall in bin 0) and
    subtracted afterwards, which avoids copying the non-zero values out.
    """
    width32 = np.float32(limit / (bins - 1))
    scaled = np.abs(sample)
    np.divide(scaled, width32, out=scaled)
    scaled += np.float32(0.5)
    np.floor(scaled, out=scaled)
    index = scaled.astype(np.int64)
    counts = np.bincount(index, minlength=bins)[:bins].astype(np.int64, copy=False)
    counts[0] -= sample.size - np.count_nonzero(sample)
    shifted = edge_shifted_indices(bins)
    if shifted.size:
        moved = counts[shifted]
        counts[shifted] -= moved
        counts[shifted + 1] += moved
    return counts


class AbsHistogram:
    """Counts of |x| over all samples of one tensor, extended the way TPU-MLIR extends it.

    The state is the count array and its limit: it grows only when a sample raises
    the abs-max (at most to :data:`MAX_EXTENDED_BINS` bins), never with the number
    of samples.
    """

    def __init__(self, bins: int = 2048) -> None:
        if bins < 2:
            raise ValueError(f"a histogram needs at least 2 bins, got {bins}")
        self._bins = bins
        self._counts: Counts | None = None
        self._limit = 0.0
        self._limit_is_float32 = True

    @property
    def bins(self) -> int:
        """The bin count a fresh histogram starts with (``--histogram_bin_num``)."""
        return self._bins

    @property
    def counts(self) -> Counts | None:
        """The counts so far (read-only view), or None before the first binned sample."""
        if self._counts is None:
            return None
        view = self._counts.view()
        view.flags.writeable = False
        return view

    @property
    def limit(self) -> float:
        """The |x| at the centre of the last bin (TPU-MLIR's histogram threshold)."""
        return self._limit

    @property
    def width(self) -> float:
        """The bin width ``limit / (len - 1)`` that the KLD threshold is scaled by."""
        if self._counts is None:
            return 0.0
        return self._limit / (self._counts.size - 1)

    @property
    def nbytes(self) -> int:
        """Bytes held by the counts."""
        return 0 if self._counts is None else int(self._counts.nbytes)

    def add(self, sample: npt.NDArray[np.float32], running_abs_max: np.float32) -> None:
        """Bin one sample; ``running_abs_max`` is the tensor's abs-max including this sample."""
        new_limit = np.float32(running_abs_max)
        if self._counts is None:
            self._restart(sample, new_limit)
            return
        old_bins = self._counts.size
        if float(new_limit) <= self._limit:
            self._counts += bin_magnitudes(sample, self._limit, old_bins)
            return
        step = self._limit / old_bins
        if self._limit_is_float32:
            gap = np.float64(new_limit - np.float32(self._limit))
        else:
            gap = np.float64(float(new_limit) - self._limit)
        added = int(np.floor_divide(gap, np.float64(step)) + 1)
        if old_bins + added > MAX_EXTENDED_BINS:
            logger.warning(
                "histogram would need %d bins: the calibration samples differ too much in "
                "range; starting it over (reorder or replace the samples to avoid this)",
                old_bins + added,
            )
            self._restart(sample, new_limit)
            return
        limit = added * step + self._limit
        counts = bin_magnitudes(sample, limit, old_bins + added)
        counts[:old_bins] += self._counts
        self._counts = counts
        self._limit = limit
        self._limit_is_float32 = False

    def _restart(self, sample: npt.NDArray[np.float32], limit: np.float32) -> None:
        self._counts = bin_magnitudes(sample, float(limit), self._bins)
        self._limit = float(limit)
        self._limit_is_float32 = True
