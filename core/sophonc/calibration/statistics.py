"""Streaming per-tensor statistics gathered while the calibration samples run.

Every threshold method reads from a :class:`TensorStatistics`, which sees one
sample (one inference's value of the tensor) at a time and keeps a fixed-size
state: running min/max, the |x| histogram of :mod:`sophonc.calibration.histogram`
(bounded, and growing only when the range grows), running sums of TPU-MLIR's
per-sample ``mse``/``aciq`` estimates, and, when a percentile is asked for, the
``2k`` extreme values of :mod:`sophonc.calibration.percentile`. Nothing is kept
per sample, so memory does not grow with the dataset.

Values are taken as float32, the type TPU-MLIR's interpreter hands to its
calibrator, so bins and sums match its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.calibration.estimators import (
    aciq_gauss_estimate,
    aciq_laplace_estimate,
    mse_clip_estimate,
)
from sophonc.calibration.histogram import AbsHistogram, Counts
from sophonc.calibration.percentile import PercentileTracker
from sophonc.errors import SophonError

#: A sample whose largest |x| is below this is left out of the histogram (TPU-MLIR's rule).
ALL_ZERO_LIMIT = 1e-8
SUPPORTED_BITS = (8, 4)


@dataclass(frozen=True)
class StatisticsOptions:
    """What to collect for a tensor beyond min/max and the histogram.

    ``mse_bits`` and ``aciq_bits`` name the bit widths whose per-sample estimates are
    summed (8, and 4 for int4 tables); ``percentile`` (in percent) keeps the extremes
    that percentile needs, which requires ``sample_count``: the number of samples the
    run will feed, exactly as TPU-MLIR sizes its pool by ``--input_num``.
    """

    histogram_bins: int = 2048
    mse_bits: tuple[int, ...] = ()
    aciq_bits: tuple[int, ...] = ()
    percentile: float | None = None
    sample_count: int = 0

    def __post_init__(self) -> None:
        for bits in (*self.mse_bits, *self.aciq_bits):
            if bits not in SUPPORTED_BITS:
                raise ValueError(f"bit width must be one of {SUPPORTED_BITS}, got {bits}")
        if self.percentile is not None and self.sample_count < 1:
            raise ValueError("a percentile needs sample_count, the number of samples of the run")


class TensorStatistics:
    """Fixed-size running statistics of one tensor, updated one sample at a time."""

    def __init__(self, options: StatisticsOptions | None = None) -> None:
        self.options = options or StatisticsOptions()
        self.sample_count = 0
        self.numel = 0
        self._low = np.float32(np.inf)
        self._high = np.float32(-np.inf)
        self._histogram = AbsHistogram(self.options.histogram_bins)
        self._mse_sums = dict.fromkeys(self.options.mse_bits, 0.0)
        self._gauss_sums = dict.fromkeys(self.options.aciq_bits, 0.0)
        self._laplace_sums = dict.fromkeys(self.options.aciq_bits, 0.0)
        self._percentile: PercentileTracker | None = None
        if self.options.percentile is not None:
            self._percentile = PercentileTracker(self.options.percentile, self.options.sample_count)

    def update(self, sample: npt.ArrayLike) -> None:
        """Fold one sample of the tensor into the statistics."""
        values = np.asarray(sample, dtype=np.float32).reshape(-1)
        if values.size == 0:
            raise ValueError("the tensor is empty")
        low, high = values.min(), values.max()
        if not (np.isfinite(low) and np.isfinite(high)):
            raise ValueError("the tensor holds NaN or infinite values")
        self.sample_count += 1
        self.numel = values.size
        self._low = min(low, self._low)
        self._high = max(high, self._high)
        for bits in self._mse_sums:
            self._mse_sums[bits] += mse_clip_estimate(values, bits)
        for bits in self._gauss_sums:
            self._gauss_sums[bits] += aciq_gauss_estimate(low, high, values.size, bits)
            self._laplace_sums[bits] += aciq_laplace_estimate(values, bits)
        if self._percentile is not None:
            self._percentile.add(values)
        if max(abs(low), abs(high)) >= ALL_ZERO_LIMIT:
            self._histogram.add(values, self._running_abs_max())

    def _running_abs_max(self) -> np.float32:
        return max(abs(self._low), abs(self._high))

    @property
    def min(self) -> float:
        """Smallest value seen (+inf before any sample)."""
        return float(self._low)

    @property
    def max(self) -> float:
        """Largest value seen (-inf before any sample)."""
        return float(self._high)

    @property
    def abs_max(self) -> float:
        """``max(|min|, |max|)``."""
        return float(self._running_abs_max())

    @property
    def histogram(self) -> tuple[Counts, float] | None:
        """``(counts, width)`` of the |x| histogram, or None if every sample was ~all zero."""
        counts = self._histogram.counts
        return None if counts is None else (counts, self._histogram.width)

    def _mean(self, sums: dict[int, float], bits: int, what: str) -> float:
        if bits not in sums:
            raise ValueError(f"{what} estimates for {bits} bits were not collected")
        if self.sample_count == 0:
            raise ValueError("no samples were collected")
        return sums[bits] / self.sample_count

    def mse_mean(self, bits: int = 8) -> float:
        """Average over samples of the per-sample ``mse`` clipping estimate."""
        return self._mean(self._mse_sums, bits, "mse")

    def aciq_gauss_mean(self, bits: int = 8) -> float:
        """Average over samples of the per-sample ``aciq_gauss`` threshold."""
        return self._mean(self._gauss_sums, bits, "aciq")

    def aciq_laplace_mean(self, bits: int = 8) -> float:
        """Average over samples of the per-sample ``aciq_laplace`` threshold."""
        return self._mean(self._laplace_sums, bits, "aciq")

    @property
    def percentile(self) -> PercentileTracker:
        """The percentile tracker (only when ``options.percentile`` was set)."""
        if self._percentile is None:
            raise ValueError("percentile extremes were not collected for this tensor")
        return self._percentile

    def state_nbytes(self) -> int:
        """Bytes held in arrays by this object: what must not grow with the sample count."""
        extremes = 0 if self._percentile is None else self._percentile.nbytes
        return self._histogram.nbytes + extremes


class CalibrationStatistics(Mapping[str, TensorStatistics]):
    """The statistics of every calibrated tensor, keyed by tensor name, in first-seen order."""

    def __init__(
        self,
        options: StatisticsOptions | None = None,
        per_tensor: Mapping[str, StatisticsOptions] | None = None,
    ) -> None:
        self.options = options or StatisticsOptions()
        self._per_tensor = dict(per_tensor or {})
        self._tensors: dict[str, TensorStatistics] = {}

    def update(self, name: str, sample: npt.ArrayLike) -> None:
        """Fold one sample of tensor ``name`` into its statistics."""
        stats = self._tensors.get(name)
        if stats is None:
            stats = TensorStatistics(self._per_tensor.get(name, self.options))
            self._tensors[name] = stats
        try:
            stats.update(sample)
        except ValueError as exc:
            raise SophonError(
                f"calibration of tensor '{name}' failed at sample {stats.sample_count + 1}: {exc}; "
                f"check the model and the calibration inputs"
            ) from exc

    def __getitem__(self, name: str) -> TensorStatistics:
        return self._tensors[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tensors)

    def __len__(self) -> int:
        return len(self._tensors)
