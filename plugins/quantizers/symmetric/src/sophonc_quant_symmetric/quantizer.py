"""The ``symmetric`` quantizer: the class the ``sophon.quantizers`` entry point names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sophonc.api import Quantizer, TargetSpec
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.module import Module
from sophonc.ir.types import QuantType
from sophonc.ir.value import Value
from sophonc.quant import symmetric_scale
from sophonc.quantize.activations import annotate_activations
from sophonc_quant_symmetric.ranges import tensor_range


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

        def type_tensor(v: Value, entry: TableEntry) -> float:
            r = tensor_range(v.producer, entry)
            v.quant = quant_type(r.threshold, r.signed, target.unsigned_activations)
            v.meta["threshold"] = float(r.threshold)
            return float(r.threshold)

        return annotate_activations(module, table, target, overrides, type_tensor, self.name)
