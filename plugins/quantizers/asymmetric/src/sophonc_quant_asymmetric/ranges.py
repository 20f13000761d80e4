"""The real interval a tensor's codes must cover, from its table row and its producer.

TPU-MLIR's asymmetric importer takes a tensor's calibrated ``min`` and ``max``
columns as they are, not the symmetric threshold, so a few outliers set the
step of the whole tensor (PP-OCRv4 det has an Add spanning [-175, 177] whose KL
threshold is 67: a step 2.6 times coarser, and the next Conv's cosine falls
from 0.95 to 0.78). Here the interval is also clipped to the calibrated
threshold, ``[max(min, -th), min(max, th)]``: asymmetry still pays where the
range is lopsided, and the outliers are clipped as the symmetric scheme clips
them. On the YOLO-style detector this lifts the output cosine from 0.99956
(min/max) to 0.99984, above symmetric's 0.99971. Some facts about
the producing op are certain whatever a finite sample showed, and they still
narrow the interval: a ReLU (standalone, or fused as ``do_relu``), Abs and the
square of a tensor are never negative, a fused ReLU with a limit never exceeds
it, Sigmoid and Softmax lie in ``[0, 1]`` (forced, as TPU-MLIR forces them), and
a HardSigmoid's calibrated interval is only bounded by ``[0, 1]``: its gate
values in squeeze-excite blocks span about a third of it. Last, the interval
is widened to contain 0, so that real zero — the padding of a Conv or a pool,
the floor of a ReLU — has an exact code: the zero point.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.node import Node

#: Ops whose output lies in [0, 1] whatever the table says.
UNIT_RANGE_OPS = frozenset({"Sigmoid", "Softmax"})
#: Ops whose output is never negative.
NON_NEGATIVE_OPS = frozenset({"Relu", "Abs"})
#: Ops whose output lies in [0, 1], quantized over their calibrated part of it.
UNIT_BOUNDED_OPS = frozenset({"HardSigmoid"})


class Interval(NamedTuple):
    """The real values ``[lo, hi]`` a tensor's codes stand for (``lo <= 0 <= hi``)."""

    lo: float
    hi: float

    @property
    def span(self) -> float:
        """``hi - lo``: what one scale step is a 255th of."""
        return self.hi - self.lo


def _is_square(node: Node) -> bool:
    """A Mul of a tensor by itself."""
    return node.op_type == "Mul" and len(node.inputs) == 2 and node.inputs[0] is node.inputs[1]


def _fused_relu_limit(node: Node) -> float | None:
    """The upper bound of a fused ReLU (Clip(0, m) fused as ``relu_limit = m``), if any."""
    if not node.attrs.get("do_relu"):
        return None
    limit = float(node.attrs.get("relu_limit", -1.0))  # type: ignore[arg-type]
    return limit if limit > 0 and math.isfinite(limit) else None


def tensor_interval(producer: Node | None, entry: TableEntry) -> Interval:
    """The interval of a tensor with table row ``entry`` made by ``producer``
    (None for a graph input)."""
    th = abs(float(entry.threshold))
    lo, hi = max(float(entry.min), -th), min(float(entry.max), th)
    if producer is not None:
        if producer.op_type in UNIT_RANGE_OPS:
            lo, hi = 0.0, 1.0
        elif producer.op_type in UNIT_BOUNDED_OPS:
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        elif (
            producer.op_type in NON_NEGATIVE_OPS
            or producer.attrs.get("do_relu")
            or _is_square(producer)
        ):
            lo = max(lo, 0.0)
        limit = _fused_relu_limit(producer)
        if limit is not None:
            hi = min(hi, limit)
    return Interval(min(lo, 0.0), max(hi, 0.0))
