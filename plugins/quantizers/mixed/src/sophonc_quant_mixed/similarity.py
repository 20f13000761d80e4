"""How close a quantized result is to F32: the cosine TPU-MLIR's search uses, made robust.

A network's similarity on one sample is the mean, over its outputs, of each
output's cosine with the F32 output; a search aims at its mean over samples.
Two identical tensors are fully similar even when both are all zeros.

One departure from TPU-MLIR: an output that is *silent* on a sample — its F32
norm below :data:`SILENT` of the largest norm that output reaches on the
search samples (a text detector's probability map on a picture without text,
values around 1e-7) — has no meaningful direction, so its cosine is noise,
even for an F16 model. There the quantized output matches when it is silent
too (the task result is the same: nothing found), and is judged by the plain
cosine otherwise. A sample on which every output is silent in both says
nothing at all: it is left out of the mean over samples (:meth:`OutputJudge.
quiet`), so that pictures without text cannot dilute the misses on pictures
with text. TPU-MLIR's plain mean is still computed and reported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.compare import cosine_similarity
from sophonc.compare.metrics import sanitize

Array = npt.NDArray[np.generic]

#: An output is silent on a sample below this fraction of its largest norm.
SILENT = 1e-3


def tensor_cosine(got: Array, want: Array) -> float:
    """Cosine of ``got`` against ``want`` (1 when equal, NaN/inf sanitised as TPU-MLIR does)."""
    a, b = np.asarray(got), np.asarray(want)
    if a.shape == b.shape and np.array_equal(a, b):
        return 1.0
    fa = np.asarray(a, np.float64).reshape(b.shape)
    fb = np.asarray(b, np.float64)
    if not (np.isfinite(fa).all() and np.isfinite(fb).all()):
        fa, fb = sanitize(fa), sanitize(fb)
    return cosine_similarity(fa, fb)


def _norm(x: Array) -> float:
    return float(np.linalg.norm(sanitize(np.asarray(x))))


class OutputJudge:
    """Scores a run's network outputs against F32 on one sample.

    ``references`` are the F32 outputs of the search samples; they set each
    output's silence floor.
    """

    def __init__(self, names: Sequence[str], references: Sequence[Mapping[str, Array]]) -> None:
        self.names = list(names)
        self.floors = {
            name: SILENT * max((_norm(ref[name]) for ref in references), default=0.0)
            for name in self.names
        }

    def _one(self, name: str, got: Mapping[str, Array], want: Mapping[str, Array]) -> float:
        if name not in got:
            return 1.0
        floor = self.floors[name]
        if _norm(want[name]) < floor and _norm(got[name]) < floor:
            return 1.0
        return tensor_cosine(got[name], want[name])

    def cosine(self, got: Mapping[str, Array], want: Mapping[str, Array]) -> float:
        """Mean over outputs (an output missing from ``got`` is unchanged: 1)."""
        return sum(self._one(n, got, want) for n in self.names) / len(self.names)

    def plain_cosine(self, got: Mapping[str, Array], want: Mapping[str, Array]) -> float:
        """TPU-MLIR's mean of plain cosines."""
        return sum(tensor_cosine(got[n], want[n]) for n in self.names) / len(self.names)

    def quiet(self, got: Mapping[str, Array], want: Mapping[str, Array]) -> bool:
        """Whether every output is silent in both runs (the sample says nothing)."""
        return all(
            name not in got
            or (_norm(want[name]) < self.floors[name] and _norm(got[name]) < self.floors[name])
            for name in self.names
        )

    def silent(self, want: Mapping[str, Array]) -> bool:
        """Whether every output of this F32 sample is silent."""
        return all(_norm(want[n]) < self.floors[n] for n in self.names)
