"""Drop nodes whose results nothing reads."""

from __future__ import annotations

from sophonc.ir.module import Module
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import remove_nodes


class DeadCodeEliminationPass(InPlacePass):
    """Removes every node none of whose outputs is read or is a graph output.

    Core ops have no side effects, so such a node is dead. Works backwards so a
    chain of dead nodes goes in one run. Weights read only by dead nodes vanish
    with them (a weight belongs to the graph through its readers).
    """

    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        live_outputs = {id(v) for v in graph.outputs}
        dead = []
        for node in reversed(graph.nodes):
            used = any(out.uses() or id(out) in live_outputs for out in node.outputs)
            if not used:
                node.detach()
                dead.append(node)
        if dead:
            remove_nodes(graph, dead)
        return PassResult(module, bool(dead))
