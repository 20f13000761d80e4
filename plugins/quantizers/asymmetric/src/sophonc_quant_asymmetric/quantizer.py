"""The ``asymmetric`` quantizer: the class the ``sophon.quantizers`` entry point names."""

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
from sophonc.quant import asymmetric_params
from sophonc.quantize.mixed_range import isolate_mixed_ranges
from sophonc.quantize.precision import FLOAT_DTYPES, assign_precisions
from sophonc_quant_asymmetric.ranges import Interval, tensor_interval

log = logging.getLogger(__name__)

#: Storage range of each code type.
INT8_RANGE = (-128, 127)
UINT8_RANGE = (0, 255)


def table_row(table: CalibrationTable, value: Value) -> TableEntry | None:
    """The row of ``value`` under its own name or one of its alias names (a table
    written by TPU-MLIR names some fused tensors differently; sophonc.ir.shadows)."""
    for name in (value.name, *alias_names(value)):
        if name in table:
            return table[name]
    return None


def asymmetric_type(interval: Interval, unsigned_allowed: bool) -> QuantType:
    """Per-tensor type with a zero point covering ``interval`` (TFLite-style nudging).

    uint8 when the interval has no negative part and the chip stores unsigned
    activations, else int8 — the choice TPU-MLIR makes. Either way
    the 256 codes span the interval; only where the zero point sits differs.
    """
    qmin, qmax = UINT8_RANGE if interval.lo >= 0 and unsigned_allowed else INT8_RANGE
    p = asymmetric_params(interval.lo, interval.hi, qmin, qmax)
    storage = "i8" if p.signed else "u8"
    return QuantType(storage, (p.scale,), (p.zero_point,), qmin=p.qmin, qmax=p.qmax)


class AsymmetricQuantizer(Quantizer):
    """``scale = (max - min)/255`` and a zero point per tensor, TPU-MLIR's ``--asymmetric``.

    Every float tensor with a calibration-table row gets a zero-point type from
    the row's ``min``/``max`` (narrowed by what its producer guarantees, see
    :mod:`sophonc_quant_asymmetric.ranges`); tensors without one stay float.
    Only activations are decided here: the backend quantizes weights itself,
    symmetric per output channel as TPU-MLIR does in this mode too, and its
    integer kernels work on centred codes ``q - zp`` (padding included), so a
    bias needs no zero-point term. Node precisions and the float
    Concats of very different ranges are decided exactly as for the symmetric
    scheme, by the core helpers, from the same qtable.
    """

    name: ClassVar[str] = "asymmetric"

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
        spans: dict[str, float] = {}
        missing = 0
        for v in values:
            if v.dtype not in FLOAT_DTYPES:
                continue
            entry = table_row(table, v)
            if entry is None:
                missing += 1
                continue
            interval = tensor_interval(v.producer, entry)
            v.quant = asymmetric_type(interval, target.unsigned_activations)
            v.meta["calibrated_min"] = interval.lo
            v.meta["calibrated_max"] = interval.hi
            spans[v.name] = interval.span
        if missing:
            log.info("%d float tensors have no calibration row and stay float", missing)
        # A Concat's inputs are compared by span: the step of each one's codes.
        isolate_mixed_ranges(module, spans, target.mixed_fp_types[0], frozenset(overrides))
        module.metadata["state"] = "TOP_QUANTIZED"
        module.metadata["quantizer"] = self.name
        return module
