"""TPU-MLIR's per-op percentile of a tensor, computed in bounded memory.

TPU-MLIR (``percentile9999``, and the trailing-output rule of ``mse``/``aciq_*``)
works with ``k = int(N * numel * (1 - p/100)) + 1`` where ``N`` is the number of
samples of the run and ``p`` the op's percentile. From every sample it keeps the
``k`` smallest and the ``k`` largest values (both slices of the sorted sample, so a
sample with ``2k > numel`` contributes some values twice), pools them over all
samples, sorts the pool and interpolates between its two innermost kept values::

    pos   = p/100 * (N * numel - 1);  ratio = pos - int(pos)
    v_max = top[0] + ratio * (top[1] - top[0])          # top: the k largest, ascending
    v_min = bottom[0] + ratio * (bottom[1] - bottom[0])  # bottom: the k smallest, descending

(``k == 1`` takes ``top[0]`` / ``bottom[0]`` alone.) That pool grows with every
sample. Here only the pool's ``k`` largest and ``k`` smallest values are kept: after
each sample they are replaced by the ``k`` largest / smallest of (kept values + the
sample's two slices). For any multisets ``A`` and ``B``,
``top_k(A + B) == top_k(top_k(A) + B)``, so after the last sample the kept values are
exactly the ``k`` largest and ``k`` smallest of TPU-MLIR's pool, and ``v_min``/``v_max``
are the same numbers; the memory is ``2k`` values whatever the number of samples.

The |x| percentile (``top`` taken over ``|pool|``) needs no extra state: a value whose
magnitude is among the ``k`` largest of ``|pool|`` is among the ``k`` largest of the
pool if it is positive and among the ``k`` smallest if it is negative, and the pool
holds at least ``2k`` values, so ``top_k(|pool|) == top_k(|largest k| + |smallest k|)``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Values = npt.NDArray[np.float32]


def _largest(values: Values, k: int) -> Values:
    if values.size <= k:
        return values
    return np.partition(values, values.size - k)[values.size - k :]


def _smallest(values: Values, k: int) -> Values:
    if values.size <= k:
        return values
    return np.partition(values, k - 1)[:k]


def _interpolate(inner: float, next_inner: float, ratio: float, keep: int) -> float:
    if keep == 1:
        return inner
    return inner + ratio * (next_inner - inner)


class PercentileTracker:
    """The ``k`` largest and smallest values of TPU-MLIR's percentile pool for one tensor."""

    def __init__(self, percentile: float, sample_count: int) -> None:
        if not 0.0 < percentile <= 100.0:
            raise ValueError(f"percentile must be in (0, 100], got {percentile}")
        if sample_count < 1:
            raise ValueError(
                f"percentile tracking needs the run's sample count, got {sample_count}"
            )
        self.percentile = percentile
        self.sample_count = sample_count
        self.numel = 0
        self.keep = 0
        self.seen = 0
        self._high: Values = np.empty(0, np.float32)
        self._low: Values = np.empty(0, np.float32)

    @property
    def nbytes(self) -> int:
        """Bytes held by the kept values (at most ``2k`` float32)."""
        return int(self._high.nbytes + self._low.nbytes)

    def add(self, sample: Values) -> None:
        """Merge one flattened float32 sample into the kept extremes."""
        n = sample.size
        if self.keep == 0:
            self.numel = n
            self.keep = int(self.sample_count * n * (1 - self.percentile / 100)) + 1
        elif n != self.numel:
            raise ValueError(f"sample has {n} values, earlier samples had {self.numel}")
        k = self.keep
        if 2 * k >= n:
            ordered = np.sort(sample)
            low, high = ordered[:k], ordered[-k:]
        else:
            parted = np.partition(sample, (k - 1, n - k))
            low, high = parted[:k], parted[n - k :]
        self._high = _largest(np.concatenate((self._high, low, high)), k).copy()
        self._low = _smallest(np.concatenate((self._low, low, high)), k).copy()
        self.seen += 1

    def _ratio(self) -> float:
        if self.seen != self.sample_count:
            raise ValueError(
                f"percentile was set up for {self.sample_count} samples but saw {self.seen}"
            )
        position = (self.percentile / 100) * (self.sample_count * self.numel - 1)
        return position - int(position)

    def value_range(self) -> tuple[float, float]:
        """``(v_min, v_max)``: TPU-MLIR's interpolated low and high percentile."""
        ratio = self._ratio()
        top = np.sort(self._high.astype(np.float64))
        bottom = np.sort(self._low.astype(np.float64))[::-1]
        pad_top = top[1] if top.size > 1 else top[0]
        pad_bottom = bottom[1] if bottom.size > 1 else bottom[0]
        v_max = _interpolate(float(top[0]), float(pad_top), ratio, self.keep)
        v_min = _interpolate(float(bottom[0]), float(pad_bottom), ratio, self.keep)
        return v_min, v_max

    def abs_value(self) -> float:
        """The interpolated percentile of |x| over the same pool."""
        ratio = self._ratio()
        pool = np.abs(np.concatenate((self._high, self._low)).astype(np.float64))
        top = np.sort(pool)[-self.keep :]
        second = top[1] if top.size > 1 else top[0]
        return _interpolate(float(top[0]), float(second), ratio, self.keep)
