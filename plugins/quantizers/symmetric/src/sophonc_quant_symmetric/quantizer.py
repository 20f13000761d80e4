"""The ``symmetric`` quantizer: the class the ``sophon.quantizers`` entry point names."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar

from sophonc.api import Quantizer, TargetSpec
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.module import Module
from sophonc.ir.shadows import alias_names
from sophonc.ir.types import QuantType
from sophonc.ir.value import Value
from sophonc.quant import symmetric_scale
from sophonc.quantize.mixed_range import isolate_mixed_ranges
from sophonc.quantize.precision import FLOAT_DTYPES, assign_precisions
from sophonc_quant_symmetric.ranges import tensor_range

log = logging.getLogger(__name__)


def lookup(table: CalibrationTable, value: Value) -> TableEntry | None:
    """The row of ``value``, or of a name it is known by elsewhere (a table made
    by TPU-MLIR names some fused tensors differently; see sophonc.ir.shadows)."""
    entry = table.get(value.name)
    for alias in alias_names(value) if entry is None else ():
        entry = table.get(alias)
        if entry is not None:
            break
    return entry


def quant_type(threshold: float, signed: bool, unsigned_allowed: bool) -> QuantType:
    """Per-tensor int8/uint8 type with zero point 0 for a symmetric threshold."""
    if not signed and unsigned_allowed:
        return QuantType("u8", (symmetric_scale(threshold, False),), (0,), qmin=0, qmax=255)
    return QuantType("i8", (symmetric_scale(threshold, True),), (0,), qmin=-128, qmax=127)


class SymmetricQuantizer(Quantizer):
    """Zero point 0, ``scale = th/127`` (``th/255`` unsigned), TPU-MLIR's default.

    Every float tensor with a calibration-table row gets a quantized type;
    tensors without one stay float (their nodes then run in float, as in
    TPU-MLIR). Node precisions come from :func:`assign_precisions`; Concats that
    join very different ranges are kept in the chip's float type
    (:mod:`sophonc.quantize.mixed_range`).
    """

    name: ClassVar[str] = "symmetric"

    def quantize(
        self,
        module: Module,
        table: CalibrationTable,
        target: TargetSpec,
        overrides: Mapping[str, str],
    ) -> Module:
        """Annotate ``module`` in place and return it."""
        assign_precisions(module, target, overrides)
        graph = module.graph
        values: list[Value] = [*graph.inputs, *(o for n in graph.nodes for o in n.outputs)]
        thresholds: dict[str, float] = {}
        missing = 0
        for v in values:
            if v.dtype not in FLOAT_DTYPES:
                continue
            entry = lookup(table, v)
            if entry is None:
                missing += 1
                continue
            r = tensor_range(v.producer, entry)
            v.quant = quant_type(r.threshold, r.signed, target.unsigned_activations)
            v.meta["threshold"] = float(r.threshold)
            thresholds[v.name] = float(r.threshold)
        if missing:
            log.info("%d float tensors have no calibration row and stay float", missing)
        isolate_mixed_ranges(module, thresholds, target.mixed_fp_types[0], frozenset(overrides))
        module.metadata["state"] = "TOP_QUANTIZED"
        module.metadata["quantizer"] = self.name
        return module
