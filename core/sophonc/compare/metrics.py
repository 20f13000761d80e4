"""Per-tensor comparison with TPU-MLIR's ``npz_tool compare`` semantics.

One tensor pair ends in one of five verdicts, tried in this order:

1. ``NOT_MATCH`` – the shapes cannot be reconciled (same size → reshape; one
   shape larger on every axis → crop it to the other's leading corner);
2. ``EQUAL`` – bit-identical; int8 tensors that differ are ``NOT_EQUAL`` (fail);
3. ``CLOSE`` – ``allclose(rtol=10^-k, atol=1e-8)`` for k = 5, 4 or 3 (first hit);
4. ``SIMILAR`` – cosine > tol[0] and euclidean similarity > tol[1];
5. ``NOT_SIMILAR`` otherwise.

Before the similarity metrics NaN becomes 0 and ±inf becomes ±10000, as TPU-MLIR
does, so one bad value shows as a low score instead of poisoning every sum.
SQNR is computed and printed but never decides the verdict.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

EQUAL = "EQUAL"
NOT_EQUAL = "NOT_EQUAL"
CLOSE = "CLOSE"
SIMILAR = "SIMILAR"
NOT_SIMILAR = "NOT_SIMILAR"
NOT_MATCH = "NOT_MATCH"

PASSING = frozenset({EQUAL, CLOSE, SIMILAR})

#: rtol exponents tried for CLOSE, strictest first.
CLOSE_ORDERS = (5, 4, 3)
CLOSE_ATOL = 1e-8
INF_REPLACEMENT = 10000.0


@dataclass(frozen=True)
class Similarity:
    """The three numbers TPU-MLIR prints for a tensor pair."""

    cosine: float
    euclid: float
    sqnr: float


@dataclass(frozen=True)
class TensorResult:
    """The verdict on one tensor: target ``a`` against reference ``b``."""

    name: str
    status: str
    shape_a: tuple[int, ...]
    shape_b: tuple[int, ...]
    similarity: Similarity | None = None
    close_order: int | None = None

    @property
    def passed(self) -> bool:
        """Whether this verdict passes the comparison."""
        return self.status in PASSING


def sanitize(x: npt.NDArray[np.generic]) -> npt.NDArray[np.float64]:
    """Float64 copy with NaN → 0 and ±inf → ±10000."""
    out = np.asarray(x, dtype=np.float64).copy()
    out[np.isnan(out)] = 0.0
    out[np.isposinf(out)] = INF_REPLACEMENT
    out[np.isneginf(out)] = -INF_REPLACEMENT
    return out


def cosine_similarity(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """a·b / (|a||b|); 0 when either tensor is all zeros."""
    na = float(np.linalg.norm(a))
    nb = float(np.linalg.norm(b))
    if na == 0.0 or nb == 0.0:
        return 0.0
    return float(np.dot(a.ravel(), b.ravel()) / (na * nb))


def euclidean_similarity(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> float:
    """1 − ||a−b|| / (||(a+b)/2|| + 1e-7)."""
    dist = float(np.linalg.norm(a - b))
    root = float(np.linalg.norm((a + b) / 2.0))
    return 1.0 - dist / (root + 1e-7)


def sqnr_db(target: npt.NDArray[np.float64], reference: npt.NDArray[np.float64]) -> float:
    """10·log10(Σ(a−ā)² / Σ(n−n̄)²) with noise n = a − b; +inf for no noise."""
    noise = target - reference
    signal_power = float(np.sum((target - target.mean()) ** 2))
    noise_power = float(np.sum((noise - noise.mean()) ** 2))
    if noise_power == 0.0:
        return math.inf
    if signal_power == 0.0:
        return -math.inf
    return 10.0 * math.log10(signal_power / noise_power)


def similarity(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> Similarity:
    """Cosine, euclidean similarity and SQNR of two same-shaped tensors."""
    fa, fb = sanitize(a), sanitize(b)
    return Similarity(cosine_similarity(fa, fb), euclidean_similarity(fa, fb), sqnr_db(fa, fb))


def align(
    a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]
) -> tuple[npt.NDArray[np.generic], npt.NDArray[np.generic]] | None:
    """Bring ``b`` to ``a``'s shape by reshape or crop; None when impossible."""
    if a.shape == b.shape:
        return a, b
    if a.size == b.size:
        return a, b.reshape(a.shape)
    if a.ndim == b.ndim:
        if all(x >= y for x, y in zip(a.shape, b.shape, strict=True)):
            return a[tuple(slice(0, d) for d in b.shape)], b
        if all(x <= y for x, y in zip(a.shape, b.shape, strict=True)):
            return a, b[tuple(slice(0, d) for d in a.shape)]
    return None


def close_order(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> int | None:
    """The largest k in 5,4,3 with allclose(a, b, rtol=10^-k, atol=1e-8), else None."""
    fa = np.asarray(a, dtype=np.float64)
    fb = np.asarray(b, dtype=np.float64)
    for k in CLOSE_ORDERS:
        if np.allclose(fa, fb, rtol=10.0**-k, atol=CLOSE_ATOL):
            return k
    return None


def compare_tensors(
    name: str,
    a: npt.NDArray[np.generic],
    b: npt.NDArray[np.generic],
    tolerance: tuple[float, float],
) -> TensorResult:
    """Judge target ``a`` against reference ``b`` (see the module docstring).

    Similarity numbers are filled in for every verdict but NOT_MATCH, so a
    summary can report the minimum over all tensors.
    """
    a, b = np.asarray(a), np.asarray(b)
    shapes = (tuple(int(d) for d in a.shape), tuple(int(d) for d in b.shape))
    aligned = align(a, b)
    if aligned is None:
        return TensorResult(name, NOT_MATCH, *shapes)
    a, b = aligned
    if np.array_equal(a, b):
        return TensorResult(name, EQUAL, *shapes, Similarity(1.0, 1.0, math.inf))
    sim = similarity(a, b)
    if a.dtype == np.int8 or b.dtype == np.int8:
        return TensorResult(name, NOT_EQUAL, *shapes, sim)
    order = close_order(a, b)
    if order is not None:
        return TensorResult(name, CLOSE, *shapes, sim, order)
    ok = sim.cosine > tolerance[0] and sim.euclid > tolerance[1]
    return TensorResult(name, SIMILAR if ok else NOT_SIMILAR, *shapes, sim)
