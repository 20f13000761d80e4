"""Put the node list in a valid execution order."""

from __future__ import annotations

from sophonc.errors import IRError
from sophonc.ir.module import Module
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult


class TopologicalSortPass(InPlacePass):
    """Stable topological sort: keeps the current order wherever it is legal.

    Rewrite rule: reorder ``graph.nodes`` so every node follows the producers of
    its inputs. A cycle is an :class:`IRError` naming nodes on it.
    """

    ensures = frozenset({SORTED})
    preserves = frozenset({SHAPES})

    def call(self, module: Module) -> PassResult:
        before = [id(n) for n in module.graph.nodes]
        try:
            module.graph.sort()
        except ValueError as exc:
            raise IRError(str(exc)) from None
        return PassResult(module, before != [id(n) for n in module.graph.nodes])
