"""The walk every INT8 quantizer makes over a module's activations.

A quantizer scheme differs only in the type it gives one tensor from its
calibration row (zero point or not, which range); the rest is shared and lives
here: node precisions from the target and the qtable, the row lookup (own name,
then the alias names TPU-MLIR's graph uses), float for tensors without a row,
a max-pool's range given back to its input (sophonc.quantize.backward), and
the Concats of very different ranges kept in the chip's float type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sophonc.api import TargetSpec
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.module import Module
from sophonc.ir.shadows import alias_names
from sophonc.ir.value import Value
from sophonc.quantize.backward import give_ranges_back
from sophonc.quantize.mixed_range import isolate_mixed_ranges
from sophonc.quantize.precision import FLOAT_DTYPES, assign_precisions

log = logging.getLogger(__name__)

#: Sets ``value.quant`` (and its metadata) from its row; returns the tensor's
#: range measure the Concat check compares (threshold or span).
TypeTensor = Callable[[Value, TableEntry], float]


def table_row(table: CalibrationTable, value: Value) -> TableEntry | None:
    """The row of ``value``, or of a name it is known by elsewhere (a table made
    by TPU-MLIR names some fused tensors differently; see sophonc.ir.shadows)."""
    for name in (value.name, *alias_names(value)):
        entry = table.get(name)
        if entry is not None:
            return entry
    return None


def annotate_activations(
    module: Module,
    table: CalibrationTable,
    target: TargetSpec,
    overrides: Mapping[str, str],
    type_tensor: TypeTensor,
    scheme: str,
) -> Module:
    """Precisions, a quantized type for every float tensor with a row, the float
    Concats; ``module`` is annotated in place and returned."""
    assign_precisions(module, target, overrides)
    graph = module.graph
    values: list[Value] = [*graph.inputs, *(o for n in graph.nodes for o in n.outputs)]
    ranges: dict[str, float] = {}
    entries: dict[str, TableEntry] = {}
    missing = 0
    for v in values:
        if v.dtype not in FLOAT_DTYPES:
            continue
        entry = table_row(table, v)
        if entry is None:
            missing += 1
            continue
        entries[v.name] = entry
        ranges[v.name] = type_tensor(v, entry)
    if missing:
        log.info("%d float tensors have no calibration row and stay float", missing)
    give_ranges_back(graph, entries, type_tensor, ranges)
    isolate_mixed_ranges(module, ranges, target.mixed_fp_types[0], frozenset(overrides))
    module.metadata["state"] = "TOP_QUANTIZED"
    module.metadata["quantizer"] = scheme
    return module
