"""The whole search, from a transformed model and its calibration table to a choice.

Phases (each timed): the all-INT8 program against F32 (and the early exit when
it already reaches the target); every layer's harm alone and accumulated; other
thresholds for the harmful layers; the search for the fewest float layers on
real programs; the check of the choice on held-back samples.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field

from sophonc.api import Arrays, Backend, DeployOptions
from sophonc.calibration.table import CalibrationTable
from sophonc.deploy import DeployRequest, quantize_module
from sophonc.ir.module import Module
from sophonc_quant_mixed.layers import Layer, find_layers
from sophonc_quant_mixed.probes import build_downstream, build_unit
from sophonc_quant_mixed.search import find_float_layers, rank_layers
from sophonc_quant_mixed.sensitivity import (
    LayerHarm,
    measure_alone,
    measure_baseline,
    reference_outputs,
    references,
)
from sophonc_quant_mixed.settings import SearchSettings
from sophonc_quant_mixed.similarity import OutputJudge
from sophonc_quant_mixed.source import ModelSource
from sophonc_quant_mixed.table_choice import pick_table
from sophonc_quant_mixed.trials import ProgramTrials, TrialResult
from sophonc_quant_mixed.tuning import MethodChoice, TuningContext, tune_thresholds

Tick = Callable[[], None]
Progress = Callable[[int, str], AbstractContextManager[Tick]]

#: At most this many harmful layers get the threshold-method search.
MAX_TUNED = 24
#: A layer is harmful when its harm is at least this fraction of the largest.
RELATIVE_HARM = 0.01


def _no_progress(total: int, what: str) -> AbstractContextManager[Tick]:
    return nullcontext(lambda: None)


@dataclass
class HeldBackCheck:
    """The all-INT8 and the chosen program's cosines on samples the search never saw."""

    samples: int
    all_int8: float
    chosen: float
    all_int8_plain: float
    chosen_plain: float
    silent: int


@dataclass
class SearchReport:
    """Everything a search found, for the command to write and print."""

    chip: str
    fp_type: str
    settings: SearchSettings
    search_samples: int
    all_int8_cos: float
    all_int8_plain: float = 0.0
    silent: int = 0
    early_exit: bool = False
    layers: list[Layer] = field(default_factory=list)
    ranked: list[Layer] = field(default_factory=list)
    harms: dict[str, LayerHarm] = field(default_factory=dict)
    accumulated: dict[str, float] = field(default_factory=dict)
    choices: list[MethodChoice] = field(default_factory=list)
    table: CalibrationTable | None = None
    tuned_cos: float | None = None
    proposed: int = 0
    chosen: list[Layer] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)
    final: TrialResult | None = None
    reached: bool = True
    guess: int = 0
    programs_run: int = 0
    held_back: HeldBackCheck | None = None
    seconds: dict[str, float] = field(default_factory=dict)


class _Clock:
    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self.last = time.perf_counter()

    def lap(self, phase: str) -> None:
        now = time.perf_counter()
        self.seconds[phase] = now - self.last
        self.last = now


@dataclass(frozen=True)
class SearchInputs:
    """The model, the chip, the table and the samples of one search."""

    module: Module
    backend: Backend
    table: CalibrationTable
    settings: SearchSettings
    search: Sequence[Arrays]
    held_back: Sequence[Arrays] = ()


def run_search(
    job: SearchInputs,
    step: Callable[[str], None] = lambda _: None,
    progress: Progress = _no_progress,
) -> SearchReport:
    """Run every phase of the search (see the module docstring)."""
    module, backend, settings = job.module, job.backend, job.settings
    report = SearchReport(backend.target.chip, settings.fp_type, settings, len(job.search), 0.0)
    clock = _Clock(report.seconds)
    source = ModelSource(module, backend)
    base = quantize_module(source.fresh(), backend, DeployRequest("INT8", table=job.table))
    program = backend.lower(base, DeployOptions(quantize="INT8", model_name=module.name))
    step("running the all-INT8 program against F32")
    outputs = reference_outputs(module, job.search)
    judge = OutputJudge([v.name for v in module.graph.outputs], outputs)
    report.silent = sum(judge.silent(ref) for ref in outputs)
    with progress(len(job.search), "all-INT8") as tick:
        baseline = measure_baseline(module, program, backend, job.search, judge, tick)
    report.all_int8_cos, report.all_int8_plain = baseline.outputs_cos, baseline.plain_cos
    clock.lap("all-INT8")
    if baseline.outputs_cos >= settings.expected_cos:
        report.early_exit = True
        return report
    layers = find_layers(base, baseline.materialized)
    step(f"measuring {len(layers)} layers alone (one op each, then the graph after it)")
    downstream = {layer.name: build_downstream(module, layer) for layer in layers}
    units = [build_unit(base, layer, backend) for layer in layers]
    with progress(len(job.search), "layers alone") as tick:
        measured = measure_alone(units, downstream, backend, references(module, job.search),
                                 judge, tick=tick)  # fmt: skip
    harms = {layer.name: h for layer, h in zip(layers, measured, strict=True)}
    accumulated = {
        x.name: baseline.tensor_cos[x.name] for x in layers if x.name in baseline.tensor_cos
    }
    report.layers, report.harms, report.accumulated = layers, harms, accumulated
    clock.lap("layers alone")
    ranked = rank_layers(layers, harms, accumulated)
    harmful = harmful_layers(ranked, harms, settings.min_layer_cos)
    step(f"trying kl, max, percentile9999 and mse on {len(harmful)} harmful layers")
    context = TuningContext(module, source, backend, job.search, judge, downstream)
    proposed = tune_thresholds(context, harmful, harms, job.table, base)

    def make_trials(table: CalibrationTable) -> ProgramTrials:
        return ProgramTrials(source, base, table, settings.fp_type, job.search,
                             outputs, settings.expected_cos, judge)  # fmt: skip

    picked = pick_table(proposed, job.table, baseline.outputs_cos, module, make_trials)
    report.choices, report.proposed, table = picked.choices, picked.proposed, picked.table
    report.table = table
    if report.choices:
        report.tuned_cos = picked.cosine
        _remeasure(context, layers, harms, table, report.choices)
    clock.lap("thresholds")
    report.ranked = ranked = rank_layers(layers, harms, accumulated)
    step("searching the fewest float layers on chip programs")
    _choose(report, ranked, harms, picked.trials)
    report.programs_run += picked.programs_run
    clock.lap("search")
    if job.held_back:
        step(f"checking the choice on {len(job.held_back)} held-back samples")
        report.held_back = _check_held_back(job, source, base, table, report, judge)
        clock.lap("held-back check")
    return report


def harmful_layers(
    ranked: Sequence[Layer], harms: Mapping[str, LayerHarm], min_layer_cos: float
) -> list[Layer]:
    """Layers worth other thresholds: a harm near the largest, or a poor own cosine."""
    if not ranked:
        return []
    top = harms[ranked[0].name].harm
    picked = [
        layer
        for layer in ranked
        if harms[layer.name].harm > 0.0
        and (
            harms[layer.name].harm >= RELATIVE_HARM * top
            or harms[layer.name].own_cos < min_layer_cos
        )
    ]
    return picked[:MAX_TUNED]


def _remeasure(
    ctx: TuningContext,
    layers: Sequence[Layer],
    harms: dict[str, LayerHarm],
    table: CalibrationTable,
    choices: Sequence[MethodChoice],
) -> None:
    """Measure again the layers whose output or inputs got a new threshold."""
    changed = {c.tensor for c in choices}
    quantized = ctx.source.quantized(table, {})
    units = [build_unit(quantized, layer, ctx.backend) for layer in layers]
    affected = [u for u in units if u.layer.name in changed or changed.intersection(u.feeds)]
    refs = references(ctx.module, ctx.inputs)
    measured = measure_alone(affected, ctx.downstream, ctx.backend, refs, ctx.judge)
    for unit, harm in zip(affected, measured, strict=True):
        harms[unit.layer.name] = harm


def _choose(
    report: SearchReport,
    ranked: Sequence[Layer],
    harms: Mapping[str, LayerHarm],
    trials: ProgramTrials,
) -> None:
    """Fill in the chosen layers, their qtable and their cosine."""
    settings = report.settings
    start = report.all_int8_cos if report.tuned_cos is None else report.tuned_cos
    if start >= settings.expected_cos:
        report.chosen, report.reached = [], True
    else:
        outcome = find_float_layers(ranked, harms, trials, start, settings.max_float_layers)
        report.chosen, report.reached, report.guess = outcome.chosen, outcome.reached, outcome.guess
    report.overrides = trials.overrides(report.chosen)
    report.final = trials.run(report.chosen, complete=True)
    report.reached = report.final.passed
    report.programs_run = trials.programs_run


def _check_held_back(
    job: SearchInputs,
    source: ModelSource,
    base: Module,
    table: CalibrationTable,
    report: SearchReport,
    judge: OutputJudge,
) -> HeldBackCheck:
    """Both programs on samples the search never saw (silence floors from the search)."""
    refs = reference_outputs(job.module, job.held_back)
    expected, fp_type = report.settings.expected_cos, report.fp_type
    given = ProgramTrials(source, base, job.table, fp_type, job.held_back, refs, expected, judge)
    tuned = ProgramTrials(source, base, table, fp_type, job.held_back, refs, expected, judge)
    all_int8 = given.run([], complete=True)
    chosen = tuned.run(report.chosen, complete=True)
    silent = sum(judge.silent(ref) for ref in refs)
    return HeldBackCheck(len(refs), all_int8.cosine, chosen.cosine, all_int8.plain,
                         chosen.plain, silent)  # fmt: skip


__all__ = ["HeldBackCheck", "SearchInputs", "SearchReport", "run_search"]
