"""Special functions numpy lacks, accurate to float64 rounding: erf.

Core depends on numpy only, and ``math.erf`` is scalar. Erf (and exact Gelu) need
a vectorised erf good enough to be the reference every backend's table or
polynomial is judged against, so it is computed in float64 from two classical
expansions, each used where it converges fast and without cancellation:

- ``|x| < 2.5``: ``erf(x) = 2/sqrt(pi) * exp(-x^2) * sum_n 2^n x^(2n+1) / (1*3*...*(2n+1))``,
  a series of positive terms;
- ``|x| >= 2.5``: ``erfc(x) = exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))``,
  Laplace's continued fraction, evaluated from a fixed depth upwards.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

_SERIES_LIMIT = 2.5
_FRACTION_DEPTH = 60
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def _erf_series(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """erf of non-negative ``a`` below the series limit."""
    a2 = a * a
    term = a.copy()
    total = a.copy()
    n = 0
    while True:
        n += 1
        term *= (2.0 / (2 * n + 1)) * a2
        total += term
        if n > 8 and not np.any(term > 1e-17 * total):
            break
    out: npt.NDArray[np.float64] = _TWO_OVER_SQRT_PI * np.exp(-a2) * total
    return out


def _erfc_fraction(a: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """erfc of ``a`` at or above the series limit."""
    f = a.copy()
    for k in range(_FRACTION_DEPTH, 0, -1):
        f = a + (k / 2.0) / f
    out: npt.NDArray[np.float64] = np.exp(-a * a) / (math.sqrt(math.pi) * f)
    return out


def erf(x: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    """The error function of every element of ``x``, in float64."""
    z = np.asarray(x, dtype=np.float64)
    a = np.abs(z)
    result = np.empty_like(a)
    small = a < _SERIES_LIMIT
    if np.any(small):
        result[small] = _erf_series(a[small])
    big = ~small & np.isfinite(a)
    if np.any(big):
        result[big] = 1.0 - _erfc_fraction(a[big])
    result[np.isinf(a)] = 1.0
    result[np.isnan(a)] = np.nan
    out: npt.NDArray[np.float64] = np.copysign(result, z)
    return out
