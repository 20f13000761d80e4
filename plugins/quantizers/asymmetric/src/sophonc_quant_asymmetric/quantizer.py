"""The ``asymmetric`` quantizer: the class the ``sophon.quantizers`` entry point names."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sophonc.api import Quantizer, TargetSpec
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.module import Module
from sophonc.ir.types import QuantType
from sophonc.ir.value import Value
from sophonc.quant import asymmetric_params
from sophonc.quantize.activations import annotate_activations
from sophonc_quant_asymmetric.ranges import Interval, tensor_interval

#: Storage range of each code type.
INT8_RANGE = (-128, 127)
UINT8_RANGE = (0, 255)


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

        def type_tensor(v: Value, entry: TableEntry) -> float:
            interval = tensor_interval(v.producer, entry)
            v.quant = asymmetric_type(interval, target.unsigned_activations)
            v.meta["calibrated_min"] = interval.lo
            v.meta["calibrated_max"] = interval.hi
            # A Concat's inputs are compared by span: the step of each one's codes.
            return interval.span

        return annotate_activations(module, table, target, overrides, type_tensor, self.name)
