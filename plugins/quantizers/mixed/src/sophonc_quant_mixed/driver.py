"""The whole search, from a transformed model and its calibration table to a choice.

Phases (each timed): the all-INT8 program against F32 (and the early exit when
it already reaches the target on the search and the held-back samples); the
whole table of each calibration method (another early exit); every layer's harm
alone and accumulated; other thresholds for the harmful layers; the search for
the fewest float layers on real programs; the check of the choice on held-back
samples. When the choice misses the target there, it was fitted to too few
samples: the program search runs again on the search and held-back samples
together (same ranking), so the qtable holds for both.
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
from sophonc_quant_mixed.alternatives import METHODS
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
from sophonc_quant_mixed.similarity import Array, OutputJudge
from sophonc_quant_mixed.source import ModelSource
from sophonc_quant_mixed.table_choice import pick_table
from sophonc_quant_mixed.trials import BothTrials, ProgramTrials, TrialResult, Trials
from sophonc_quant_mixed.tuning import MethodChoice, TuningContext, tune_thresholds
from sophonc_quant_mixed.whole_tables import (
    TUNED,
    WholeTableChoice,
    method_tables,
    pick_whole_table,
)

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
class Widened:
    """The program search run again, the target required on both sample sets.

    ``tables``: each candidate table's all-INT8 cosine (the lower of the two sets):
    ``given``, ``whole`` (the whole-table pick), ``tuned`` (with per-layer changes),
    identical tables tried once; ``picked``: the one the search went on with;
    ``search`` and ``held_back``: the final choice's cosine on each set.
    """

    chosen_before: int
    tables: dict[str, float]
    picked: str = "given"
    search: float = 0.0
    held_back: float = 0.0


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
    whole: WholeTableChoice | None = None
    widened: Widened | None = None
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
    held_refs = reference_outputs(module, job.held_back) if job.held_back else []

    def make_trials(table: CalibrationTable, held: bool = False) -> ProgramTrials:
        inputs, refs = (job.held_back, held_refs) if held else (job.search, outputs)
        return ProgramTrials(source, base, table, settings.fp_type, inputs, refs,
                             settings.expected_cos, judge)  # fmt: skip

    def early_exit(table: CalibrationTable, cosine: float) -> bool:
        """Whether all-INT8 with ``table`` reaches the target on every sample."""
        if cosine < settings.expected_cos:
            return False
        if not job.held_back:
            return True
        report.held_back = _held_back_int8(make_trials(table, held=True), held_refs, judge)
        return report.held_back.all_int8 >= settings.expected_cos

    report.silent = sum(judge.silent(ref) for ref in outputs)
    with progress(len(job.search), "all-INT8") as tick:
        baseline = measure_baseline(module, program, backend, job.search, judge, tick)
    report.all_int8_cos, report.all_int8_plain = baseline.outputs_cos, baseline.plain_cos
    clock.lap("all-INT8")
    if early_exit(job.table, baseline.outputs_cos):
        report.early_exit = True
        return report
    step(f"trying the whole table of {', '.join(METHODS)} (and tuned {', '.join(TUNED)})")
    with progress(len(job.search), "method tables") as tick:
        tables = method_tables(module, job.table, job.search, tick)
    whole = pick_whole_table(tables, job.table, baseline.outputs_cos, make_trials)
    report.whole = whole
    start_table = whole.table
    if whole.method is not None:
        report.table = start_table
        base = quantize_module(source.fresh(), backend, DeployRequest("INT8", table=start_table))
        program = backend.lower(base, DeployOptions(quantize="INT8", model_name=module.name))
        baseline = measure_baseline(module, program, backend, job.search, judge)
    clock.lap("whole tables")
    if whole.method is not None and early_exit(start_table, baseline.outputs_cos):
        report.early_exit, report.programs_run = True, whole.programs_run
        return report
    report.held_back = None
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
    proposed = tune_thresholds(context, harmful, harms, start_table, base)
    picked = pick_table(proposed, start_table, baseline.outputs_cos, module, make_trials)
    report.choices, report.proposed, table = picked.choices, picked.proposed, picked.table
    report.table = table
    if report.choices:
        report.tuned_cos = picked.cosine
        _remeasure(context, layers, harms, table, report.choices)
    clock.lap("thresholds")
    report.ranked = ranked = rank_layers(layers, harms, accumulated)
    step("searching the fewest float layers on chip programs")
    start = baseline.outputs_cos if report.tuned_cos is None else report.tuned_cos
    _choose(report, ranked, harms, picked.trials, start)
    report.programs_run += picked.programs_run + whole.programs_run
    clock.lap("search")
    if job.held_back:
        step(f"checking the choice on {len(job.held_back)} held-back samples")
        report.held_back = _check_held_back(job, source, base, table, report, judge, held_refs)
        clock.lap("held-back check")
        if report.held_back.chosen < settings.expected_cos:
            step("searching again for a choice that holds on both sample sets")
            report.widened = widened = Widened(len(report.chosen), {})
            candidates = {"given": job.table, "whole": start_table, "tuned": table}
            both = _best_on_both(candidates, make_trials, widened)
            done = report.programs_run
            _choose(report, ranked, harms, both, both.run([], complete=True).cosine)
            report.programs_run += done
            widened.search = both.search.run(report.chosen, complete=True).cosine
            widened.held_back = both.held_back.run(report.chosen, complete=True).cosine
            report.table = both.search.table
            if widened.picked != "tuned":
                report.choices = []
            if widened.picked == "given":
                report.whole = None
            clock.lap("search on both sets")
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
    trials: Trials,
    start: float,
) -> None:
    """Fill in the chosen layers, their qtable and their cosine (``start``: all-INT8's)."""
    settings = report.settings
    if start >= settings.expected_cos:
        report.chosen, report.reached = [], True
    else:
        outcome = find_float_layers(ranked, harms, trials, start, settings.max_float_layers)
        report.chosen, report.reached, report.guess = outcome.chosen, outcome.reached, outcome.guess
    report.overrides = trials.overrides(report.chosen)
    report.final = trials.run(report.chosen, complete=True)
    report.reached = report.final.passed
    report.programs_run = trials.programs_run


def _best_on_both(
    candidates: Mapping[str, CalibrationTable],
    make_trials: Callable[..., ProgramTrials],
    widened: Widened,
) -> BothTrials:
    """The candidate table whose all-INT8 program does best on both sets (first on ties)."""
    best: BothTrials | None = None
    seen: list[CalibrationTable] = []
    for label, table in candidates.items():
        if any(table is other for other in seen):
            continue
        seen.append(table)
        both = BothTrials(make_trials(table), make_trials(table, held=True))
        widened.tables[label] = both.run([], complete=True).cosine
        if best is None or widened.tables[label] > widened.tables[widened.picked]:
            best, widened.picked = both, label
    assert best is not None
    return best


def _check_held_back(
    job: SearchInputs,
    source: ModelSource,
    base: Module,
    table: CalibrationTable,
    report: SearchReport,
    judge: OutputJudge,
    refs: Sequence[Mapping[str, Array]],
) -> HeldBackCheck:
    """Both programs on samples the search never saw (silence floors from the search)."""
    expected, fp_type = report.settings.expected_cos, report.fp_type
    given = ProgramTrials(source, base, job.table, fp_type, job.held_back, refs, expected, judge)
    tuned = ProgramTrials(source, base, table, fp_type, job.held_back, refs, expected, judge)
    all_int8 = given.run([], complete=True)
    chosen = tuned.run(report.chosen, complete=True)
    silent = sum(judge.silent(ref) for ref in refs)
    return HeldBackCheck(len(refs), all_int8.cosine, chosen.cosine, all_int8.plain,
                         chosen.plain, silent)  # fmt: skip


def _held_back_int8(
    trials: ProgramTrials, refs: Sequence[Mapping[str, Array]], judge: OutputJudge
) -> HeldBackCheck:
    """All-INT8 on the held-back samples (the check before an early exit)."""
    result = trials.run([], complete=True)
    silent = sum(judge.silent(ref) for ref in refs)
    return HeldBackCheck(len(refs), result.cosine, result.cosine, result.plain, result.plain,
                         silent)  # fmt: skip


__all__ = ["HeldBackCheck", "SearchInputs", "SearchReport", "Widened", "run_search"]
