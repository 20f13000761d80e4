"""Before a harmful layer goes float, try other calibration methods for its output.

For each harmful layer, its output tensor's rows from kl, max, percentile9999
and mse are tried one at a time: the layer is lowered alone with the new
threshold on its output (its inputs keep theirs) and measured exactly as in
the sensitivity pass. A threshold whose layer output is not even locally
closer to F32 is dropped before the (costlier) propagation to the network
outputs. The method giving the least harm wins if it beats the given table's
row by :data:`MIN_GAIN`; the winners make the improved calibration table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sophonc.api import Arrays, Backend
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.module import Module
from sophonc_quant_mixed.alternatives import (
    METHODS,
    alternative_rows,
    collect_statistics,
    table_with_rows,
)
from sophonc_quant_mixed.layers import Layer
from sophonc_quant_mixed.probes import Downstream, UnitProgram, build_unit
from sophonc_quant_mixed.sensitivity import LayerHarm, measure_alone, references
from sophonc_quant_mixed.similarity import OutputJudge
from sophonc_quant_mixed.source import ModelSource

#: A new threshold must cut the layer's harm by at least this fraction.
MIN_GAIN = 0.01


@dataclass(frozen=True)
class MethodChoice:
    """A tensor whose threshold changed: from which method, and the harm it saved."""

    tensor: str
    method: str
    entry: TableEntry
    harm_before: float
    harm_after: float


@dataclass(frozen=True)
class TuningContext:
    """What the threshold trials share with the sensitivity pass."""

    module: Module
    source: ModelSource
    backend: Backend
    inputs: Sequence[Arrays]
    judge: OutputJudge
    downstream: Mapping[str, Downstream]


def tune_thresholds(
    ctx: TuningContext,
    layers: Sequence[Layer],
    harms: Mapping[str, LayerHarm],
    table: CalibrationTable,
    base: Module,
) -> list[MethodChoice]:
    """The better rows found for the outputs of ``layers`` (most harmful first).

    ``harms`` holds each layer's measures with ``table``; ``base`` is the module
    quantized with ``table`` (the inputs' quantized types come from it).
    """
    tensors = [layer.name for layer in layers if layer.name in table]
    if not tensors:
        return []
    bins = table.header.histogram_bins or 2048
    stats = collect_statistics(ctx.module, tensors, ctx.inputs, bins)
    rows = alternative_rows(stats, table)
    if not rows:
        return []
    by_name = {layer.name: layer for layer in layers}
    trials: list[tuple[str, UnitProgram]] = []
    for method in METHODS:
        chosen = {t: r[method] for t, r in rows.items() if method in r}
        if not chosen:
            continue
        quantized = ctx.source.quantized(table_with_rows(table, ctx.module, chosen), {})
        for tensor in chosen:
            trials.append((method, build_unit(quantized, by_name[tensor], ctx.backend, base)))
    local = measure_alone(
        [u for _, u in trials], ctx.downstream, ctx.backend,
        references(ctx.module, ctx.inputs), ctx.judge, propagate=False,
    )  # fmt: skip
    promising = [
        (method, unit)
        for (method, unit), own in zip(trials, local, strict=True)
        if own.own_error < harms[unit.layer.name].own_error * (1.0 - MIN_GAIN)
    ]
    if not promising:
        return []
    measured = measure_alone(
        [u for _, u in promising], ctx.downstream, ctx.backend,
        references(ctx.module, ctx.inputs), ctx.judge,
    )  # fmt: skip
    return _winners(promising, measured, harms, rows)


def _winners(
    promising: Sequence[tuple[str, UnitProgram]],
    measured: Sequence[LayerHarm],
    harms: Mapping[str, LayerHarm],
    rows: Mapping[str, Mapping[str, TableEntry]],
) -> list[MethodChoice]:
    best: dict[str, tuple[float, str]] = {}
    for (method, unit), harm in zip(promising, measured, strict=True):
        name = unit.layer.name
        if name not in best or harm.harm < best[name][0]:
            best[name] = (harm.harm, method)
    choices: list[MethodChoice] = []
    for name, (after, method) in best.items():
        before = harms[name].harm
        if after < before * (1.0 - MIN_GAIN):
            choices.append(MethodChoice(name, method, rows[name][method], before, after))
    return choices
