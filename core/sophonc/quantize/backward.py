"""MaxPool (and two other code-moving ops) hand their calibrated range back to their input.

A MaxPool only picks codes, so its input and output share one quantized form.
Which form is a choice: the input's keeps the producer's requant, but the
producer's KL threshold is usually cut below the large values that a max then
selects, so those saturate. TPU-MLIR (1.30.2, checked op by op on models built
for it) gives the pool's own threshold to its input instead, back along a chain
of single-use tensors, for MaxPool, GlobalMaxPool and DepthToSpace; a graph
input, a tensor with other readers, and every other moving op keep the input's
form. On the PP-OCR classifier the last HardSwish feeds a MaxPool and its KL
threshold (2.58) clips the top fifth of the pool's range (3.23).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping

from sophonc.calibration.table_entry import TableEntry
from sophonc.ir.graph import Graph
from sophonc.ir.value import Value

#: Ops whose input takes the output's calibrated range when it has no other reader.
BACKWARD_OPS = frozenset({"MaxPool", "GlobalMaxPool", "DepthToSpace"})


def _takes_back(v: Value | None, graph_outputs: frozenset[str]) -> bool:
    return (
        v is not None
        and v.producer is not None
        and v.quant is not None
        and v.meta.get("precision") == "INT8"
        and len(v.uses()) == 1
        and v.name not in graph_outputs
    )


def give_ranges_back(
    graph: Graph,
    entries: MutableMapping[str, TableEntry],
    type_tensor: Callable[[Value, TableEntry], float],
    ranges: MutableMapping[str, float],
) -> None:
    """Re-type the single-use inputs of :data:`BACKWARD_OPS` with their output's
    row, walking backwards so a chain of pools takes the last one's range;
    ``entries`` and ``ranges`` are updated."""
    outputs = frozenset(v.name for v in graph.outputs)
    for node in reversed(list(graph.nodes)):
        if node.op_type not in BACKWARD_OPS or not node.outputs:
            continue
        out = node.outputs[0]
        entry = entries.get(out.name)
        x = node.inputs[0] if node.inputs else None
        if entry is None or out.meta.get("precision") != "INT8" or not _takes_back(x, outputs):
            continue
        assert x is not None
        entries[x.name] = entry
        ranges[x.name] = type_tensor(x, entry)
