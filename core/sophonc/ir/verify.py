"""Structural checks of a module: what every pass must leave true.

A pass bug shows up here, right after the pass that caused it, instead of as a
KeyError deep in the interpreter. The checks are linear in the graph size.
"""

from __future__ import annotations

from sophonc.errors import IRError
from sophonc.ir.module import Module


def verify_module(module: Module) -> None:
    """Raise :class:`IRError` naming the first broken invariant.

    Invariants: value names are unique; every node input is a graph input, a
    weight or an output of an earlier node; every output's producer is its node;
    use lists match the inputs exactly; graph outputs are defined.
    """
    graph = module.graph
    defined: set[int] = set()
    names: dict[str, int] = {}

    def claim(name: str, key: int, what: str) -> None:
        owner = names.setdefault(name, key)
        if owner != key:
            raise IRError(f"module '{module.name}': two values are named '{name}' ({what})")

    for inp in graph.inputs:
        if inp.producer is not None:
            raise IRError(f"graph input '{inp.name}' has a producer")
        claim(inp.name, id(inp), "graph input")
        defined.add(id(inp))
    expected_uses: dict[int, list[tuple[int, int]]] = {}
    for node in graph.nodes:
        for i, v in enumerate(node.inputs):
            if v is None:
                continue
            if v.const is not None and v.producer is None:
                claim(v.name, id(v), "weight")
            elif id(v) not in defined:
                raise IRError(
                    f"{node.op_type} '{node.name}' reads '{v.name}' before it is defined"
                )
            expected_uses.setdefault(id(v), []).append((id(node), i))
        for j, out in enumerate(node.outputs):
            if out.producer is not node or out.index != j:
                raise IRError(f"output '{out.name}' of '{node.name}' has a wrong producer")
            claim(out.name, id(out), f"output of {node.op_type}")
            defined.add(id(out))
    for node in graph.nodes:
        for v in node.inputs:
            if v is None:
                continue
            actual = sorted((id(u.node), u.index) for u in v.uses())
            if actual != sorted(expected_uses.get(id(v), [])):
                raise IRError(f"the use list of '{v.name}' does not match its readers")
    for res in graph.outputs:
        if id(res) not in defined and res.const is None:
            raise IRError(f"graph output '{res.name}' is not defined by the graph")
