"""Judging a choice of float layers the only way that counts: the real chip program.

Each trial quantizes a fresh copy with the qtable of the choice, lowers it
with the backend and runs it on the samples with the chip's arithmetic. A
trial that has already lost more cosine than the target allows over all the
samples stops there (it cannot pass any more), so failing trials — most of a
search — cost a few samples instead of all of them. Results are cached by
choice.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from sophonc.api import Arrays, DeployOptions
from sophonc.calibration.table import CalibrationTable
from sophonc.ir.module import Module
from sophonc_quant_mixed.layers import Layer, float_overrides
from sophonc_quant_mixed.similarity import OutputJudge
from sophonc_quant_mixed.source import ModelSource

Array = npt.NDArray[np.generic]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrialResult:
    """A choice's verdict: ``cosine`` is the mean over the ``samples`` that ran and said
    something (see :meth:`OutputJudge.quiet`)."""

    passed: bool
    cosine: float
    samples: int
    complete: bool
    plain: float = 0.0


class ProgramTrials:
    """Runs float choices as chip programs on a fixed set of samples."""

    def __init__(
        self,
        source: ModelSource,
        structure: Module,
        table: CalibrationTable,
        fp_type: str,
        inputs: Sequence[Arrays],
        references: Sequence[Mapping[str, Array]],
        expected_cos: float,
        judge: OutputJudge,
    ) -> None:
        self.source = source
        self.structure = structure
        self.table = table
        self.fp_type = fp_type
        self.inputs = list(inputs)
        self.references = list(references)
        self.expected_cos = expected_cos
        self.judge = judge
        self.programs_run = 0
        self._cache: dict[frozenset[str], TrialResult] = {}

    def overrides(self, layers: Collection[Layer]) -> dict[str, str]:
        """The qtable of a choice (its layers' nodes and the moves they feed)."""
        return float_overrides(self.structure, layers, self.fp_type)

    def run(self, layers: Collection[Layer], *, complete: bool = False) -> TrialResult:
        """Whether the outputs reach the expected cosine with ``layers`` in float.

        With ``complete`` every sample runs even after the trial has failed (to
        report its cosine).
        """
        key = frozenset(layer.name for layer in layers)
        cached = self._cache.get(key)
        if cached is not None and (cached.complete or not complete):
            return cached
        quantized = self.source.quantized(self.table, self.overrides(layers))
        backend = self.source.backend
        program = backend.lower(
            quantized, DeployOptions(quantize="INT8", model_name=quantized.name)
        )
        self.programs_run += 1
        lost = 0.0
        total = plain = 0.0
        ran = counted = 0
        for feeds, want in zip(self.inputs, self.references, strict=True):
            got = backend.run_program(program, feeds)
            plain += self.judge.plain_cosine(got, want)
            ran += 1
            if not self.judge.quiet(got, want):
                cos = self.judge.cosine(got, want)
                total += cos
                lost += 1.0 - cos
                counted += 1
            # even if every sample left counted, the mean could not reach the target
            most = counted + len(self.inputs) - ran
            if lost > most * (1.0 - self.expected_cos) and not complete:
                break
        done = ran == len(self.inputs)
        mean = total / counted if counted else 1.0
        plain_mean = plain / ran if ran else 1.0
        result = TrialResult(done and mean >= self.expected_cos, mean, ran, done, plain_mean)
        log.debug("trial of %d float layers: cosine %.6f on %d samples, %s", len(layers),
                  mean, ran, "passes" if result.passed else "fails")  # fmt: skip
        self._cache[key] = result
        return result


class Trials(Protocol):
    """What the float search needs from a judge of choices."""

    expected_cos: float

    @property
    def programs_run(self) -> int: ...

    def overrides(self, layers: Collection[Layer]) -> dict[str, str]: ...

    def run(self, layers: Collection[Layer], *, complete: bool = False) -> TrialResult: ...


class BothTrials:
    """Verdicts that must hold on two sample sets at once: the search's and the held-back.

    A choice passes when it reaches the target on each set; its cosine is the lower
    of the two means. The held-back set runs first (it is where a choice made on the
    search samples failed), so most failing trials stop there.
    """

    def __init__(self, search: ProgramTrials, held_back: ProgramTrials) -> None:
        self.search = search
        self.held_back = held_back
        self.expected_cos = search.expected_cos

    @property
    def programs_run(self) -> int:
        return self.search.programs_run + self.held_back.programs_run

    def overrides(self, layers: Collection[Layer]) -> dict[str, str]:
        return self.search.overrides(layers)

    def run(self, layers: Collection[Layer], *, complete: bool = False) -> TrialResult:
        held = self.held_back.run(layers, complete=complete)
        if not held.passed and not complete:
            return held
        seen = self.search.run(layers, complete=complete)
        return TrialResult(
            held.passed and seen.passed,
            min(held.cosine, seen.cosine),
            held.samples + seen.samples,
            held.complete and seen.complete,
            min(held.plain, seen.plain),
        )
