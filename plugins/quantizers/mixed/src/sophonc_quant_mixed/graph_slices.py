"""Small modules cut out of a big one: a layer on its own, and what follows a tensor.

Measuring a layer does not need the whole network twice. Its *unit* module
holds just the layer (and any table ops the chip folds into it), with the
layer's inputs as graph inputs carrying their quantized types, so the backend
lowers and runs exactly that op on the F32 reference activations. Its
*downstream* module holds every node that reads the layer's output, directly
or not, with every other tensor those nodes read as an extra graph input; fed
the reference activations and the perturbed output, it gives the network
outputs as if only that layer had been quantized.

Cut modules own fresh values and nodes (the original's use lists stay exact);
weights share the original's arrays, which nothing writes to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value


class _Cloner:
    """Maps values of the original graph to their copies in one cut module."""

    def __init__(self) -> None:
        self.copies: dict[int, Value] = {}

    def boundary(self, original: Value) -> Value:
        """A graph input of the cut module standing for ``original``."""
        return self._copy(original, const=False)

    def value(self, original: Value) -> Value:
        """The copy of an already copied value, or of a weight."""
        return self._copy(original, const=original.const is not None)

    def _copy(self, original: Value, *, const: bool) -> Value:
        found = self.copies.get(id(original))
        if found is not None:
            return found
        copy = Value(
            original.name,
            original.type,
            const=original.const if const else None,
            quant=original.quant,
        )
        copy.meta.update(original.meta)
        self.copies[id(original)] = copy
        return copy

    def node(self, original: Node) -> Node:
        """A copy of ``original`` reading the copies of its inputs."""
        inputs: list[Value | None] = []
        for v in original.inputs:
            if v is None:
                inputs.append(None)
            elif v.const is not None:
                inputs.append(self._copy(v, const=True))
            else:
                found = self.copies.get(id(v))
                if found is None:
                    raise ValueError(f"'{v.name}' is read before it is defined in the cut")
                inputs.append(found)
        outputs = [self._copy(o, const=False) for o in original.outputs]
        return Node(original.op_type, inputs, outputs, dict(original.attrs), name=original.name)


def _external_inputs(nodes: Sequence[Node]) -> list[Value]:
    """Non-constant values the nodes read but do not make, first-use order."""
    made = {id(o) for n in nodes for o in n.outputs}
    seen: set[int] = set()
    found: list[Value] = []
    for node in nodes:
        for v in node.inputs:
            if v is None or v.const is not None or id(v) in made or id(v) in seen:
                continue
            seen.add(id(v))
            found.append(v)
    return found


def copy_module(module: Module) -> Module:
    """An independent copy of the whole module (names, types, quantized types, meta)."""
    cloner = _Cloner()
    graph_inputs = [cloner.boundary(v) for v in module.graph.inputs]
    nodes = [cloner.node(n) for n in module.graph.nodes]
    outputs = [cloner.value(v) for v in module.graph.outputs]
    graph = Graph(module.graph.name, graph_inputs, outputs, nodes)
    return Module(module.name, graph, dict(module.metadata))


def cut_module(
    module: Module, nodes: Sequence[Node], first_inputs: Iterable[Value], outputs: Sequence[Value]
) -> Module:
    """A module of ``nodes`` (in graph order) computing ``outputs``.

    Its graph inputs are ``first_inputs`` then every other value the nodes read
    from outside (in first-use order).
    """
    cloner = _Cloner()
    graph_inputs = [cloner.boundary(v) for v in first_inputs]
    for v in _external_inputs(nodes):
        if id(v) not in cloner.copies:
            graph_inputs.append(cloner.boundary(v))
    cut_nodes = [cloner.node(n) for n in nodes]
    graph_outputs = [cloner.copies[id(v)] for v in outputs]
    graph = Graph(f"{module.graph.name}_cut", graph_inputs, graph_outputs, cut_nodes)
    return Module(module.name, graph, dict(module.metadata))


def unit_module(module: Module, nodes: Sequence[Node]) -> Module:
    """The nodes of one layer alone; the last node's outputs are the module's."""
    return cut_module(module, nodes, (), list(nodes[-1].outputs))


def downstream_nodes(module: Module, starts: Sequence[Value]) -> list[Node]:
    """Every node that reads one of ``starts``, directly or through others, in graph order."""
    reached = {id(v) for v in starts}
    found: list[Node] = []
    for node in module.graph.nodes:
        if any(v is not None and id(v) in reached for v in node.inputs):
            found.append(node)
            reached.update(id(o) for o in node.outputs)
    return found


def downstream_module(module: Module, starts: Sequence[Value]) -> Module | None:
    """What follows ``starts`` up to the network outputs; None when no output depends on them.

    Graph inputs: ``starts`` first, then the other tensors the downstream nodes
    read. Graph outputs: the network outputs that depend on ``starts`` (a start
    that is itself a network output is passed through by the caller).
    """
    nodes = downstream_nodes(module, starts)
    made = {id(o) for n in nodes for o in n.outputs}
    outputs = [v for v in module.graph.outputs if id(v) in made]
    if not outputs:
        return None
    return cut_module(module, nodes, starts, outputs)
