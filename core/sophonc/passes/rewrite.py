"""Small graph edits the passes share, keeping use lists and graph outputs exact."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.ir.graph import Graph
from sophonc.ir.node import Node
from sophonc.ir.value import Value


def f32_const(v: Value | None) -> npt.NDArray[np.float32] | None:
    """The data of a constant input as float32 (None if ``v`` is absent or computed):
    the folding passes compute in float32, as TPU-MLIR's importer does."""
    return None if v is None or v.const is None else np.asarray(v.const, dtype=np.float32)


def replace_value(graph: Graph, old: Value, new: Value) -> None:
    """Make every reader of ``old``, and the graph outputs, use ``new``."""
    old.replace_all_uses_with(new)
    graph.outputs = [new if v is old else v for v in graph.outputs]


def is_graph_output(graph: Graph, value: Value) -> bool:
    """Whether ``value`` is one of the graph's outputs."""
    return any(v is value for v in graph.outputs)


def sole_reader(graph: Graph, value: Value) -> Node | None:
    """The only node reading ``value`` (through one slot), if it is not a graph output."""
    uses = value.uses()
    if len(uses) != 1 or is_graph_output(graph, value):
        return None
    return uses[0].node


def remove_nodes(graph: Graph, nodes: Sequence[Node]) -> None:
    """Detach and drop ``nodes`` (their outputs must be unused by other nodes)."""
    doomed = {id(n) for n in nodes}
    for n in nodes:
        n.detach()
    graph.nodes = [n for n in graph.nodes if id(n) not in doomed]


def produce_with(
    graph: Graph,
    anchor: Node,
    op_type: str,
    inputs: Sequence[Value | None],
    attrs: Mapping[str, object],
    outputs: Sequence[Value],
    replaced: Sequence[Node],
) -> Node:
    """Replace the nodes ``replaced`` by one new node producing existing ``outputs``.

    Fusion keeps the *last* tensor's value (and so its TPU-MLIR name and its
    readers): that value is handed to the new node, which is placed where
    ``anchor`` was. Every output of ``replaced`` other than ``outputs`` must be
    unused outside ``replaced``.
    """
    position = next(i for i, n in enumerate(graph.nodes) if n is anchor)
    for n in replaced:
        n.detach()
    for out in outputs:
        out.producer = None
    node = Node(op_type, inputs, list(outputs), attrs, name=outputs[0].name)
    graph.nodes.insert(position, node)
    doomed = {id(n) for n in replaced}
    graph.nodes = [n for n in graph.nodes if id(n) not in doomed]
    return node
