"""Other thresholds for a tensor: the rows kl, max, percentile9999 and mse would give it.

Statistics are gathered once, in one F32 pass over the search samples, for the
few tensors whose layers are worth tuning (not for the whole network as a
TPU-MLIR table per method would need), with every estimate each method reads;
each method's row then comes from the same statistics, as ``sophon calibrate``
would write it. Rows equal to the given table's, or to an earlier method's,
are dropped: they cannot change anything.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.api import Arrays
from sophonc.calibration.runner import calibrated_tensors
from sophonc.calibration.statistics import CalibrationStatistics, StatisticsOptions
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.calibration.thresholds import percentile_for_op, table_entry
from sophonc.calibration.tpu_mlir_names import rewrite_aliases
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.shadows import alias_names

#: Methods tried for a harmful layer's output, in the order ties are broken.
METHODS = ("kl", "max", "percentile9999", "mse")
#: Thresholds closer than this (relative) count as the same.
SAME_THRESHOLD = 1e-6
DEFAULT_BINS = 2048


def collect_statistics(
    module: Module,
    names: Sequence[str],
    inputs: Sequence[Arrays],
    bins: int = DEFAULT_BINS,
    tick: Callable[[], None] | None = None,
) -> CalibrationStatistics:
    """Statistics of the tensors ``names`` over ``inputs``, with every method's estimates."""
    values = calibrated_tensors(module)
    index = {v.name: k for k, v in enumerate(values)}
    per_tensor = {
        name: StatisticsOptions(
            histogram_bins=bins,
            mse_bits=(8,),
            percentile=percentile_for_op(index[name], len(values)),
            sample_count=len(inputs),
        )
        for name in names
    }
    stats = CalibrationStatistics(StatisticsOptions(histogram_bins=bins), per_tensor)
    wanted = set(names)

    def observe(node: Node, results: list[npt.NDArray[np.generic]]) -> None:
        for out, arr in zip(node.outputs, results, strict=True):
            if out.name in wanted:
                stats.update(out.name, arr)

    interpreter = Interpreter(module)
    graph_inputs = [v.name for v in module.graph.inputs if v.name in wanted]
    for feeds in inputs:
        for name in graph_inputs:
            stats.update(name, np.asarray(feeds[name], dtype=np.float32))
        interpreter.run(feeds, observer=observe)
        if tick is not None:
            tick()
    return stats


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=SAME_THRESHOLD, abs_tol=0.0)


def alternative_rows(
    stats: CalibrationStatistics, table: CalibrationTable
) -> dict[str, dict[str, TableEntry]]:
    """Tensor → method → row, for rows whose threshold differs from ``table``'s."""
    found: dict[str, dict[str, TableEntry]] = {}
    for name in stats:
        base = table.get(name)
        if base is None:
            continue
        rows: dict[str, TableEntry] = {}
        for method in METHODS:
            entry = table_entry(method, name, stats[name])
            seen = [base.threshold, *(r.threshold for r in rows.values())]
            if not any(_same(entry.threshold, t) for t in seen):
                rows[method] = entry
        if rows:
            found[name] = rows
    return found


def copy_table(table: CalibrationTable) -> CalibrationTable:
    """An independent copy of ``table``: rows, optional blocks and header."""
    result = CalibrationTable(dict(table.items()))
    result.int4_entries = dict(table.int4_entries)
    result.fp8_entries = dict(table.fp8_entries)
    result.weight_scales = dict(table.weight_scales)
    result.weight_scales_fp8 = dict(table.weight_scales_fp8)
    result.activation_scales = dict(table.activation_scales)
    result.asym_ops = list(table.asym_ops)
    result.int4_ops = list(table.int4_ops)
    result.symmetric_ops = list(table.symmetric_ops)
    result.header = copy.copy(table.header)
    result.source = table.source
    return result


def table_with_rows(
    table: CalibrationTable, module: Module, rows: Mapping[str, TableEntry]
) -> CalibrationTable:
    """A copy of ``table`` with the rows of ``rows`` replaced, under every name
    the tensor has in the table (fusion aliases, TPU-MLIR's rewrite names)."""
    result = copy_table(table)
    values = module.graph.values()
    rewrites = rewrite_aliases(module)
    for name, entry in rows.items():
        names = [name]
        value = values.get(name)
        if value is not None:
            names += alias_names(value)
        names += [alias for alias, source in rewrites if source == name]
        for alias in names:
            if alias == name or alias in result:
                result[alias] = entry
    return result
