"""``run_calibration`` itself: samples through the interpreter, statistics, table.

Tensors a fusion removed but TPU-MLIR's graph keeps (:mod:`sophonc.ir.shadows`)
get rows too, computed from the tensor they derive from, so the official
``model_deploy`` finds every name it looks up.

Each sample runs once through the reference interpreter; an observer folds every
float tensor into its fixed-size :class:`TensorStatistics` as soon as the node
that makes it has run, and the interpreter frees tensors after their last reader,
so memory does not grow with the number of samples. Thresholds then come from
the chosen method (:mod:`sophonc.calibration.thresholds`), and ``kl`` is
followed by TPU-MLIR's tune step (:mod:`sophonc.calibration.tune`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.calibration.statistics import CalibrationStatistics, StatisticsOptions
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.thresholds import (
    canonical_method,
    percentile_for_op,
    table_entry,
    tail_tensors_at_abs_max,
)
from sophonc.calibration.tpu_mlir_names import rewrite_aliases
from sophonc.errors import SophonError
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.shadows import alias_names, shadow_values, shadows
from sophonc.ir.value import Value

log = logging.getLogger(__name__)

Arrays = dict[str, npt.NDArray[np.generic]]
FLOAT_DTYPES = ("f32", "f16", "bf16", "f64")
#: How many trailing tensors ``mse``/``aciq_*`` consider keeping at abs-max (TPU-MLIR: 5).
TAIL_TENSORS = 5


@dataclass(frozen=True)
class CalibrationSettings:
    """The ``run_calibration`` options that shape the statistics and thresholds."""

    method: str = "kl"
    histogram_bins: int = 2048
    tune_num: int = 5


def calibrated_tensors(module: Module) -> list[Value]:
    """Every float activation, in graph order: inputs, then node outputs."""
    graph = module.graph
    values = [v for v in graph.inputs if v.dtype in FLOAT_DTYPES]
    values += [o for n in graph.nodes for o in n.outputs if o.dtype in FLOAT_DTYPES]
    return values


def _options(
    module: Module, method: str, bins: int, sample_count: int
) -> tuple[StatisticsOptions, dict[str, StatisticsOptions]]:
    base = StatisticsOptions(histogram_bins=bins)
    per_tensor: dict[str, StatisticsOptions] = {}
    values = calibrated_tensors(module)
    names = [v.name for v in values]
    if method in ("mse", "aciq_gauss", "aciq_laplace"):
        bits = (8,)
        base = StatisticsOptions(
            histogram_bins=bins,
            mse_bits=bits if method == "mse" else (),
            aciq_bits=bits if method != "mse" else (),
        )
        count = len(names)
        for k, name in enumerate(names[-TAIL_TENSORS:], start=max(count - TAIL_TENSORS, 0)):
            per_tensor[name] = StatisticsOptions(
                histogram_bins=bins,
                mse_bits=base.mse_bits,
                aciq_bits=base.aciq_bits,
                percentile=percentile_for_op(k, count),
                sample_count=sample_count,
            )
    elif method == "percentile9999":
        count = len(names)
        for k, name in enumerate(names):
            per_tensor[name] = StatisticsOptions(
                histogram_bins=bins,
                percentile=percentile_for_op(k, count),
                sample_count=sample_count,
            )
    for v in values:  # a shadow is gathered like the tensor it derives from
        for shadow in shadows(v):
            if v.name in per_tensor:
                per_tensor[shadow.name] = per_tensor[v.name]
    return base, per_tensor


def collect_statistics(
    module: Module,
    samples: Iterable[Mapping[str, npt.ArrayLike]],
    options: StatisticsOptions,
    per_tensor: Mapping[str, StatisticsOptions] | None = None,
    on_sample: Callable[[], None] | None = None,
) -> CalibrationStatistics:
    """Statistics of every float activation over ``samples`` (streamed)."""
    stats = CalibrationStatistics(options, dict(per_tensor or {}))
    interpreter = Interpreter(module)
    inputs = [v for v in module.graph.inputs if v.dtype in FLOAT_DTYPES]

    def observe(node: Node, results: list[npt.NDArray[np.generic]]) -> None:
        for out, arr in zip(node.outputs, results, strict=True):
            if out.dtype in FLOAT_DTYPES:
                stats.update(out.name, arr)
                for shadow in shadows(out):
                    stats.update(shadow.name, shadow_values(shadow, arr))

    for feeds in samples:
        for v in inputs:
            stats.update(v.name, feeds[v.name])
        interpreter.run(feeds, observer=observe)
        if on_sample is not None:
            on_sample()
    return stats


def _is_conv_or_matmul(v: Value) -> bool:
    return v.producer is not None and v.producer.op_type in ("Conv", "MatMul", "ConvTranspose")


def thresholds_table(module: Module, stats: CalibrationStatistics, method: str) -> CalibrationTable:
    """The table rows of every calibrated tensor (before any tune step)."""
    method = canonical_method(method)
    values = calibrated_tensors(module)
    at_abs_max: set[str] = {v.name for v in module.graph.inputs}
    if method in ("mse", "aciq_gauss", "aciq_laplace"):
        tail = [(v.name, _is_conv_or_matmul(v)) for v in reversed(values[-TAIL_TENSORS:])]
        at_abs_max.update(tail_tensors_at_abs_max(tail, stats))
    table = CalibrationTable()
    for v in values:
        if v.name not in stats:
            continue
        table[v.name] = table_entry(method, v.name, stats[v.name], use_abs_max=v.name in at_abs_max)
        for shadow in shadows(v):
            if shadow.name in stats and shadow.name not in table:
                table[shadow.name] = table_entry(method, shadow.name, stats[shadow.name])
    return table


def run_calibration(
    module: Module,
    samples: Sequence[Mapping[str, npt.ArrayLike]] | Callable[[], Iterable[Arrays]],
    sample_count: int,
    settings: CalibrationSettings,
    on_sample: Callable[[], None] | None = None,
) -> tuple[CalibrationTable, CalibrationTable | None]:
    """(final table, pre-tune table or None).

    ``samples`` is a sequence of input dicts or a function giving a fresh
    iterable of them (so samples can be loaded lazily, one at a time).
    """
    method = canonical_method(settings.method)
    if sample_count < 1:
        raise SophonError("no calibration samples; give --dataset or --data_list with samples")
    options, per_tensor = _options(module, method, settings.histogram_bins, sample_count)
    source = samples() if callable(samples) else samples
    stats = collect_statistics(module, source, options, per_tensor, on_sample)
    table = thresholds_table(module, stats, method)
    if method != "kl" or settings.tune_num <= 0:
        return add_aliases(module, table), None
    from sophonc.calibration.tune import tune_thresholds

    tune_source = samples() if callable(samples) else samples
    tune_samples = []
    for feeds in tune_source:
        tune_samples.append(feeds)
        if len(tune_samples) >= settings.tune_num:
            break
    before = CalibrationTable({k: table[k] for k in table})
    tuned = tune_thresholds(module, table, stats, tune_samples)
    return add_aliases(module, tuned), add_aliases(module, before)


def add_aliases(module: Module, table: CalibrationTable) -> CalibrationTable:
    """``table`` with rows for every name our tensors are known by elsewhere: the
    aliases fusions recorded and TPU-MLIR's rewrite names (same values, same row)."""
    for v in calibrated_tensors(module):
        for alias in alias_names(v):
            if v.name in table:
                table[alias] = table[v.name]
    for alias, source in rewrite_aliases(module):
        if source in table and alias not in table:
            table[alias] = table[source]
    return table
