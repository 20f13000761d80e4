"""Comparing two sets of named tensors (two npz dumps) into one report.

The tensor names both sides share are compared in the target's order, minus
``excepts``; like TPU-MLIR only about 200 evenly spaced tensors are compared
unless ``compare_all`` is set, so huge dumps stay quick. The report keeps one row
per tensor, the minimum similarity over all rows and the pass/fail verdict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.compare.metrics import NOT_MATCH, Similarity, TensorResult, compare_tensors
from sophonc.errors import SophonError

DEFAULT_MAX_TENSORS = 200


@dataclass(frozen=True)
class CompareReport:
    """Every compared tensor, with the summary TPU-MLIR prints."""

    rows: tuple[TensorResult, ...]
    tolerance: tuple[float, float]
    skipped: int = 0

    @property
    def passed(self) -> bool:
        """True when at least one tensor was compared and every one passed."""
        return bool(self.rows) and all(r.passed for r in self.rows)

    @property
    def failures(self) -> list[TensorResult]:
        """The rows that failed, in comparison order."""
        return [r for r in self.rows if not r.passed]

    @property
    def min_similarity(self) -> Similarity:
        """(cosine, euclid, sqnr), each the minimum over rows that have numbers."""
        sims = [r.similarity for r in self.rows if r.similarity is not None]
        if not sims:
            return Similarity(math.nan, math.nan, math.nan)
        return Similarity(
            min(s.cosine for s in sims), min(s.euclid for s in sims), min(s.sqnr for s in sims)
        )

    def worst(self) -> TensorResult | None:
        """The row to blame: a shape mismatch first, else the lowest cosine."""
        if not self.rows:
            return None
        for r in self.rows:
            if r.status == NOT_MATCH:
                return r
        failing = self.failures or list(self.rows)
        with_sim = [r for r in failing if r.similarity is not None]
        if not with_sim:
            return failing[0]
        return min(with_sim, key=lambda r: (r.similarity.cosine, r.similarity.euclid))  # type: ignore[union-attr]

    def row(self, name: str) -> TensorResult | None:
        """The row of tensor ``name``, or None when it was not compared."""
        for r in self.rows:
            if r.name == name:
                return r
        return None

    def counts(self) -> dict[str, int]:
        """How many tensors ended in each verdict."""
        out: dict[str, int] = {}
        for r in self.rows:
            out[r.status] = out.get(r.status, 0) + 1
        return out


def parse_tolerance(text: str) -> tuple[float, float]:
    """``"0.99,0.99"`` → (cosine, euclid) thresholds."""
    parts = [p for p in text.replace(" ", "").split(",") if p]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 2:
        raise SophonError(
            f"--tolerance '{text}' must be two numbers 'cosine,euclid', e.g. 0.99,0.99"
        )
    return values[0], values[1]


def parse_excepts(text: str | Iterable[str] | None) -> set[str]:
    """``"-"`` or empty → nothing; else a comma list of tensor names."""
    if text is None:
        return set()
    items = text.split(",") if isinstance(text, str) else list(text)
    return {s.strip() for s in items if s.strip() and s.strip() != "-"}


def pick_names(names: Sequence[str], limit: int) -> list[str]:
    """At most ``limit`` names, evenly spaced, always keeping the last one."""
    if limit <= 0 or len(names) <= limit:
        return list(names)
    if limit == 1:
        return [names[-1]]
    idx = np.linspace(0, len(names) - 1, limit).round().astype(int)
    return [names[i] for i in sorted(set(idx.tolist()))]


def compare_arrays(
    target: Mapping[str, npt.NDArray[np.generic]],
    reference: Mapping[str, npt.NDArray[np.generic]],
    tolerance: tuple[float, float] = (0.99, 0.99),
    *,
    excepts: Iterable[str] = (),
    compare_all: bool = False,
    max_tensors: int = DEFAULT_MAX_TENSORS,
) -> CompareReport:
    """Compare every tensor name in both mappings (target order) into a report."""
    skip = set(excepts)
    shared = [n for n in target if n in reference and n not in skip]
    chosen = shared if compare_all else pick_names(shared, max_tensors)
    rows = tuple(
        compare_tensors(n, np.asarray(target[n]), np.asarray(reference[n]), tolerance)
        for n in chosen
    )
    return CompareReport(rows, tolerance, skipped=len(shared) - len(chosen))
