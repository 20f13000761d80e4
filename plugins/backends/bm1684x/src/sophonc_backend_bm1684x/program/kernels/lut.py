"""Activations through a 256-entry table indexed by the input's raw byte."""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.ir.node import Node
from sophonc.quant import apply_lut
from sophonc_backend_bm1684x.program.registry import Array, chip_op


@chip_op("Lut")
def lut(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Inputs: x (i8/u8) and the table (256 × i8/u8, a weight)."""
    x, table = inputs
    assert x is not None and table is not None
    return [apply_lut(x, table).astype(table.dtype, copy=False)]
