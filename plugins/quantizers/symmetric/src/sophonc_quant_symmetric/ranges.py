"""Which sign each tensor's int8 range gets, from the table and the producing op.

TPU-MLIR's rules for symmetric mode (ImportCalibration): the range is
``[-th, th]`` when the table's min column is negative, else ``[0, th]``; a fused
ReLU, Relu itself, Abs and the product of a tensor with itself are non-negative;
Sigmoid and Softmax outputs are forced to ``[0, 1]``; Sub is always signed. A
HardSigmoid keeps its calibrated threshold (at most 1) and is non-negative: its
gate values in squeeze-excite blocks span about a third of ``[0, 1]``, so
forcing the full range, as an earlier version did, made their steps three
times coarser than TPU-MLIR's. A non-negative range is stored unsigned
(``th/255``) on chips that allow it.
"""

from __future__ import annotations

from typing import NamedTuple

from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.node import Node
from sophonc.ir.value import Value


class Range(NamedTuple):
    """A tensor's symmetric threshold and whether it can be negative."""

    threshold: float
    signed: bool


#: Ops whose output lies in [0, 1] whatever the table says.
UNIT_RANGE_OPS = frozenset({"Sigmoid", "Softmax"})
#: Ops whose output is never negative.
NON_NEGATIVE_OPS = frozenset({"Relu", "Abs"})
#: Ops whose output lies in [0, 1], quantized over their calibrated part of it.
UNIT_BOUNDED_OPS = frozenset({"HardSigmoid"})


def _non_negative_input(v: Value | None) -> bool:
    if v is None or v.producer is None:
        return False
    p = v.producer
    return p.op_type in NON_NEGATIVE_OPS | UNIT_RANGE_OPS | UNIT_BOUNDED_OPS or bool(
        p.attrs.get("do_relu")
    )


def tensor_range(producer: Node | None, entry: TableEntry) -> Range:
    """The symmetric range of a tensor with table row ``entry`` made by ``producer``."""
    th = float(entry.threshold)
    signed = float(entry.min) < 0
    if producer is None:
        return Range(th, signed)
    op = producer.op_type
    if op in UNIT_RANGE_OPS:
        return Range(1.0, False)
    if op in UNIT_BOUNDED_OPS:
        return Range(min(th, 1.0), False)
    if op in NON_NEGATIVE_OPS or producer.attrs.get("do_relu"):
        return Range(th, False)
    if op == "Sub":
        return Range(th, True)
    if op == "Mul" and len(producer.inputs) == 2:
        a, b = producer.inputs
        if a is b or (_non_negative_input(a) and _non_negative_input(b)):
            return Range(th, False)
    return Range(th, signed)
