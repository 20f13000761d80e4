"""Keep tensors that join very different ranges out of a single int8 scale.

A detector's single output often concatenates box coordinates (hundreds) with
class scores (0…1). One int8 scale for that tensor has a step of several units,
so every score rounds to 0 or one step: TPU-MLIR does exactly that by default
and its INT8 output loses the scores. Here a Concat whose inputs' calibrated
thresholds differ by more than :data:`RANGE_RATIO` runs in float instead — each
input stays int8 with its own scale up to the Concat — and so do the pure
data-movement ops after it that still carry the joined tensor.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np

from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.quantize.precision import PRECISION

log = logging.getLogger(__name__)

#: Largest ratio of input thresholds a Concat may join in one int8 scale.
RANGE_RATIO = 16.0

#: Ops that only rearrange the joined tensor (they inherit the float precision).
CARRIERS = frozenset(
    {"Reshape", "Transpose", "Concat", "Slice", "Split", "Identity", "Gather", "Tile", "Expand"}
)


def _input_threshold(node: Node, index: int, thresholds: Mapping[str, float]) -> float | None:
    v = node.inputs[index]
    if v is None:
        return None
    if v.const is not None:
        data = np.asarray(v.const, dtype=np.float64)
        return float(np.abs(data).max()) if data.size else None
    return thresholds.get(v.name)


def isolate_mixed_ranges(
    module: Module,
    thresholds: Mapping[str, float],
    fp_type: str,
    locked: frozenset[str] = frozenset(),
) -> list[str]:
    """Mark mixed-range Concats (and the carriers after them) ``fp_type``.

    ``locked`` names nodes whose precision the user fixed (qtable); they are left
    alone. Returns the names of the nodes changed.
    """
    changed: list[str] = []
    for node in module.graph.nodes:
        if node.op_type != "Concat" or node.name in locked:
            continue
        found = [_input_threshold(node, i, thresholds) for i in range(len(node.inputs))]
        ths = [t for t in found if t is not None and t > 0]
        if len(ths) < 2 or max(ths) / min(ths) <= RANGE_RATIO:
            continue
        stack = [node]
        while stack:
            cur = stack.pop()
            if cur.name in locked or cur.outputs[0].meta.get(PRECISION) == fp_type:
                continue
            for out in cur.outputs:
                out.meta[PRECISION] = fp_type
            changed.append(cur.name)
            for out in cur.outputs:
                stack.extend(c for c in out.consumers() if c.op_type in CARRIERS)
    if changed:
        log.info("mixed ranges kept in %s: %s", fp_type, ", ".join(changed))
    return changed
