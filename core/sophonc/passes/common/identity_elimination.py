"""Remove ops that return their input unchanged."""

from __future__ import annotations

import numpy as np

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import is_graph_output, remove_nodes, replace_value

#: The constant that leaves the other operand unchanged, per arithmetic op.
_NEUTRAL = {"Mul": 1.0, "Div": 1.0, "Add": 0.0, "Sub": 0.0, "Pow": 1.0}


def _neutral_operand(node: Node) -> Value | None:
    """``x`` when ``node`` is ``x·1``, ``x/1``, ``x+0``, ``x-0`` or ``x^1`` (any order
    where the op commutes) with a constant that does not change ``x``'s shape."""
    neutral = _NEUTRAL.get(node.op_type)
    if neutral is None or len(node.inputs) != 2 or node.attrs.get("do_relu"):
        return None
    a, b = node.inputs
    pairs = [(a, b)] if node.op_type in ("Div", "Sub", "Pow") else [(a, b), (b, a)]
    for x, c in pairs:
        if x is None or c is None or c.const is None or x.type != node.outputs[0].type:
            continue
        data = np.asarray(c.const)
        if data.size and np.all(data == neutral):
            return x
    return None


def _noop_input(node: Node) -> Value | None:
    """The input ``node`` returns unchanged, or None."""
    if len(node.outputs) != 1 or not node.inputs or node.inputs[0] is None:
        return None
    neutral = _neutral_operand(node)
    if neutral is not None:
        return neutral
    return node.inputs[0] if _is_noop(node) else None


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
    one-input ``Concat``, a full ``Slice`` → ``x``; arithmetic with a neutral
    constant (``x·1``, ``x/1``, ``x+0``, ``x-0``, ``x^1``, exporters' leftovers such
    as a Swish's β = 1) → ``x``.

    When the removed op's result is a graph output, the graph must keep a tensor
    of that name (TPU-MLIR names outputs after the framework's), so the input
    takes over the name if nothing else reads it; otherwise the op stays.
    """

    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        removed: list[Node] = []
        for node in graph.nodes:
            x = _noop_input(node)
            if x is None:
                continue
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
