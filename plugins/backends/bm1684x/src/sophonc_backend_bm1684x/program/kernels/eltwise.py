"""INT8 elementwise Add/Sub and Mul.

Add: each input is re-scaled to the output scale by its own 8-bit
multiplier and shift and the results summed:
``y = sat(Σ_i RightShiftRound((x_i - zp_i)·m_i, s_i, HALF_UP) + zp_out)``;
Sub is an Add whose second multiplier is negative. Mul multiplies the centred
inputs exactly and re-scales the product once:
``y = sat(RightShiftRound((x0 - zp0)·(x1 - zp1)·m, s, HALF_UP) + zp_out)``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.quant import RoundMode, apply_multiplier_shift, as_int64
from sophonc.quant.rounding import Int64Array
from sophonc_backend_bm1684x.program.kernels.requant_tail import finish
from sophonc_backend_bm1684x.program.registry import Array, chip_op
from sophonc_backend_bm1684x.program.storage import per_tensor


def _centred(node: Node, inputs: Sequence[Array | None]) -> list[Int64Array]:
    out: list[Int64Array] = []
    for i, x in enumerate(inputs):
        assert x is not None
        _, zp = per_tensor(node.input(i))
        out.append(as_int64(x) - zp)
    return out


@chip_op("Add")
def add_int8(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Attrs ``multipliers``/``shifts``: one per input (negative multiplier = subtract)."""
    ms = node.ints("multipliers")
    ss = node.ints("shifts")
    total: Int64Array | None = None
    for x, m, s in zip(_centred(node, inputs), ms, ss, strict=True):
        part = apply_multiplier_shift(x, m, s, RoundMode.HALF_UP)
        total = part if total is None else np.add(total, part)
    assert total is not None
    return [finish(node, total)]


@chip_op("Mul")
def mul_int8(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Attrs ``multiplier``/``shift``: re-scale of the integer product."""
    a, b = _centred(node, inputs)
    y = apply_multiplier_shift(a * b, node.int("multiplier"), node.int("shift"), RoundMode.HALF_UP)
    return [finish(node, y)]
