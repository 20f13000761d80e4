"""Which nodes the search may put in float, and what must follow them into float.

A *layer* is a node that quantizes something on its own: it runs in INT8 in
the all-INT8 program and is not pure data movement. Ops that only move int8
codes (Reshape, Transpose, Slice, Split, MaxPool, nearest Resize, a Concat
whose inputs already share its scale, …) cannot add error by themselves, so,
as in TPU-MLIR, they are never candidates; instead they follow their producer:
a move that reads a float layer's output runs in float too, or it would
quantize that output again.

Table ops the chip folds into their consumer (a chain of elementwise functions
lowered as one lookup table) never exist as tensors in the program; they are
part of their consumer's layer, and go float with it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.quantize.precision import PRECISION, has_float_output

#: Ops that only move, copy or select values: they never quantize on their own.
MOVE_OPS = frozenset(
    {
        "DepthToSpace", "Expand", "Flatten", "Gather", "GlobalMaxPool", "Identity",
        "MaxPool", "ReduceMax", "ReduceMin", "Reshape", "Slice", "SpaceToDepth", "Split",
        "Squeeze", "Tile", "Transpose", "Unsqueeze",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Layer:
    """One candidate for float: its qtable name, op type and the nodes it covers.

    ``nodes`` are node names in graph order, the layer's own node last (folded
    table ops before it); ``index`` is the own node's position in the graph.
    """

    name: str
    op_type: str
    nodes: tuple[str, ...]
    index: int


def qtable_name(node: Node) -> str:
    """The name a qtable uses for ``node``: its first output's (TPU-MLIR's loc name)."""
    return node.outputs[0].name if node.outputs else node.name


def _same_scale(a: Value, b: Value) -> bool:
    return a.quant is not None and b.quant is not None and a.quant == b.quant


def is_move(node: Node) -> bool:
    """Whether ``node`` only moves codes in INT8 (never a search candidate)."""
    op = node.op_type
    if op in MOVE_OPS:
        return True
    if op == "Resize":
        return node.str("mode", "nearest") == "nearest"
    if op == "Pad":
        return node.str("mode", "constant") == "constant"
    if op == "Concat":
        out = node.outputs[0]
        data = [v for v in node.inputs if v is not None and v.const is None]
        return bool(data) and all(_same_scale(v, out) for v in data)
    return False


def runs_int8(node: Node) -> bool:
    """Whether the quantizer left ``node`` in INT8."""
    return bool(node.outputs) and node.outputs[0].meta.get(PRECISION) == "INT8"


def find_layers(quantized: Module, materialized: Collection[str]) -> list[Layer]:
    """The candidate layers of an all-INT8 quantized module, in graph order.

    ``materialized`` names the tensors the all-INT8 program computes; an INT8
    node whose output is missing there was folded into its consumer.
    """
    folded: set[int] = set()
    for node in quantized.graph.nodes:
        missing = all(o.name not in materialized for o in node.outputs)
        if runs_int8(node) and has_float_output(node) and missing:
            folded.add(id(node))
    layers: list[Layer] = []
    for index, node in enumerate(quantized.graph.nodes):
        if id(node) in folded or not runs_int8(node) or not has_float_output(node):
            continue
        if is_move(node):
            continue
        chain = _folded_producers(node, folded)
        names = tuple(qtable_name(n) for n in [*chain, node])
        layers.append(Layer(qtable_name(node), node.op_type, names, index))
    return layers


def _folded_producers(node: Node, folded: set[int]) -> list[Node]:
    """The folded nodes feeding ``node`` (transitively), in graph order."""
    found: list[Node] = []
    stack = [node]
    while stack:
        cur = stack.pop()
        for v in cur.inputs:
            p = None if v is None else v.producer
            if p is not None and id(p) in folded and all(p is not f for f in found):
                found.append(p)
                stack.append(p)
    return found[::-1]


def layer_nodes(module: Module, layer: Layer) -> list[Node]:
    """The nodes of ``layer`` in ``module`` (found by name), in graph order."""
    wanted = set(layer.nodes)
    return [n for n in module.graph.nodes if qtable_name(n) in wanted]


def float_overrides(module: Module, layers: Collection[Layer], fp_type: str) -> dict[str, str]:
    """The qtable of a float choice: every node of the layers, then the moves they feed.

    Returns node name → mode in graph order; moves reading a float tensor
    (directly or through other such moves) are included.
    """
    chosen = {name for layer in layers for name in layer.nodes}
    floats: dict[str, str] = {}
    float_tensors: set[int] = set()
    for node in module.graph.nodes:
        name = qtable_name(node)
        carried = is_move(node) and any(
            v is not None and id(v) in float_tensors for v in node.inputs
        )
        if name in chosen or carried:
            floats[name] = fp_type
            float_tensors.update(id(o) for o in node.outputs)
    return floats


def carried_moves(overrides: Mapping[str, str], layers: Collection[Layer]) -> list[str]:
    """The names in ``overrides`` that no layer chose (moves that followed a float layer)."""
    chosen = {name for layer in layers for name in layer.nodes}
    return [name for name in overrides if name not in chosen]
