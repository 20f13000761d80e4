"""A graph: inputs, outputs and nodes kept in topological order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sophonc.ir.node import Node
from sophonc.ir.value import Value


class Graph:
    """Nodes in a list that is kept topologically sorted.

    Weights are values with ``const`` data and no producer; they belong to the graph
    through the nodes that read them, so dropping the last reader drops the weight.
    """

    __slots__ = ("inputs", "name", "nodes", "outputs")

    def __init__(
        self,
        name: str,
        inputs: Sequence[Value] = (),
        outputs: Sequence[Value] = (),
        nodes: Sequence[Node] = (),
    ) -> None:
        self.name = name
        self.inputs: list[Value] = list(inputs)
        self.outputs: list[Value] = list(outputs)
        self.nodes: list[Node] = list(nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(list(self.nodes))

    def __len__(self) -> int:
        return len(self.nodes)

    def append(self, node: Node) -> Node:
        """Add a node at the end (its inputs must already be defined)."""
        self.nodes.append(node)
        return node

    def insert_before(self, anchor: Node, node: Node) -> Node:
        """Add a node just before ``anchor``."""
        self.nodes.insert(self._position(anchor), node)
        return node

    def insert_after(self, anchor: Node, node: Node) -> Node:
        """Add a node just after ``anchor``."""
        self.nodes.insert(self._position(anchor) + 1, node)
        return node

    def remove(self, node: Node) -> None:
        """Delete a node whose outputs are no longer read by anything."""
        for out in node.outputs:
            if out.uses() or any(o is out for o in self.outputs):
                raise ValueError(f"cannot remove '{node.name}': output '{out.name}' is in use")
        node.detach()
        del self.nodes[self._position(node)]

    def _position(self, node: Node) -> int:
        for i, n in enumerate(self.nodes):
            if n is node:
                return i
        raise ValueError(f"node '{node.name}' is not in graph '{self.name}'")

    def weights(self) -> list[Value]:
        """Every constant value read by a node, first-use order, no duplicates."""
        seen: set[int] = set()
        found: list[Value] = []
        for node in self.nodes:
            for v in node.inputs:
                if (
                    v is not None
                    and v.const is not None
                    and v.producer is None
                    and id(v) not in seen
                ):
                    seen.add(id(v))
                    found.append(v)
        for v in self.outputs:
            if v.const is not None and v.producer is None and id(v) not in seen:
                seen.add(id(v))
                found.append(v)
        return found

    def values(self) -> dict[str, Value]:
        """Every value by name: inputs, weights and node outputs."""
        table: dict[str, Value] = {v.name: v for v in self.inputs}
        for w in self.weights():
            table[w.name] = w
        for node in self.nodes:
            for out in node.outputs:
                table[out.name] = out
        return table

    def unique_name(self, base: str) -> str:
        """``base`` if no value has that name yet, else ``base_1``, ``base_2``, …"""
        taken = self.values().keys()
        if base not in taken:
            return base
        i = 1
        while f"{base}_{i}" in taken:
            i += 1
        return f"{base}_{i}"

    def sort(self) -> None:
        """Re-establish topological order (stable: keeps the current order where legal)."""
        ready: set[int] = {id(v) for v in self.inputs}
        remaining = list(self.nodes)
        ordered: list[Node] = []
        while remaining:
            progressed = False
            rest: list[Node] = []
            for node in remaining:
                ok = all(
                    v is None or v.producer is None or id(v) in ready for v in node.inputs
                )
                if ok:
                    ordered.append(node)
                    ready.update(id(o) for o in node.outputs)
                    progressed = True
                else:
                    rest.append(node)
            if not progressed:
                names = ", ".join(n.name for n in rest[:5])
                raise ValueError(f"graph '{self.name}' has a cycle through: {names}")
            remaining = rest
        self.nodes = ordered
