"""Remove ops that return their input unchanged."""

from __future__ import annotations

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import is_graph_output, remove_nodes, replace_value


def _is_noop(node: Node) -> bool:
    """Whether ``node`` returns its first input unchanged (same type, same data)."""
    if len(node.outputs) != 1 or not node.inputs or node.inputs[0] is None:
        return False
    x = node.inputs[0]
    out = node.outputs[0]
    if node.op_type == "Identity":
        return True
    if x.type != out.type or x.type.shape is None:
        return False
    op = node.op_type
    shape = x.type.shape
    if op in ("Cast", "Reshape", "Expand"):
        return True
    if op == "Transpose":
        return node.ints("perm", tuple(range(len(shape)))) == tuple(range(len(shape)))
    if op == "Tile":
        return all(r == 1 for r in node.ints("repeats", ()))
    if op == "Pad":
        return not any(node.ints("pads", ()))
    if op == "Concat":
        return len([v for v in node.inputs if v is not None]) == 1
    if op == "Slice":
        # Same shape with unit steps: the slice takes everything (a negative
        # step over a whole axis keeps the shape but reverses the data).
        return all(st == 1 for st in node.ints("steps", (1,)))
    return False


class IdentityEliminationPass(InPlacePass):
    """Drops Identity and ops that provably change nothing.

    Rewrite rules: ``Identity(x)`` → ``x`` (frontends turn Dropout into it);
    ``Cast`` to the same dtype, ``Reshape``/``Expand`` to the same shape, ``Transpose``
    with the identity permutation, ``Tile`` by ones, ``Pad`` by zeros, a
    one-input ``Concat``, a full ``Slice`` → ``x``.

    When the removed op's result is a graph output, the graph must keep a tensor
    of that name (TPU-MLIR names outputs after the framework's), so the input
    takes over the name if nothing else reads it; otherwise the op stays.
    """

    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        removed: list[Node] = []
        for node in graph.nodes:
            if not _is_noop(node):
                continue
            x = node.inputs[0]
            assert x is not None
            out = node.outputs[0]
            if is_graph_output(graph, out) and not self._can_rename(graph, x, node):
                continue
            if is_graph_output(graph, out):
                x.name = out.name
            node.detach()
            replace_value(graph, out, x)
            removed.append(node)
        if removed:
            remove_nodes(graph, removed)
        return PassResult(module, bool(removed))

    @staticmethod
    def _can_rename(graph: Graph, x: Value, node: Node) -> bool:
        if x.producer is None or x.const is not None:
            return False
        if is_graph_output(graph, x):
            return False
        return all(u.node is node for u in x.uses())
