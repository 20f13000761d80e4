"""Recognise HardSwish and HardSigmoid written out in elementary ops."""

from __future__ import annotations

import numpy as np

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.shadows import add_alias
from sophonc.ir.value import Value
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import produce_with, sole_reader


def retyped(name: str, op_type: str) -> str:
    """``<tensor>_<Old>`` → ``<tensor>_<op_type>``: TPU-MLIR's name for a fused result."""
    base = name.rsplit("_", 1)[0] if "_" in name else name
    return f"{base}_{op_type}"


def _scalar(v: Value | None) -> float | None:
    if v is None or v.const is None or np.asarray(v.const).size != 1:
        return None
    return float(np.asarray(v.const).reshape(-1)[0])


def _relu6_of_x_plus_3(v: Value | None) -> Value | None:
    """``x`` when ``v = min(max(x + 3, 0), 6)`` (the Add with its fused clip)."""
    if v is None or v.producer is None:
        return None
    add = v.producer
    if add.op_type != "Add" or not add.attrs.get("do_relu") or add.float("relu_limit", -1) != 6.0:
        return None
    a, b = add.inputs[0], add.inputs[1]
    if _scalar(b) == 3.0 and a is not None and a.const is None:
        return a
    if _scalar(a) == 3.0 and b is not None and b.const is None:
        return b
    return None


def _divided_by_6(node: Node) -> Value | None:
    """The numerator when ``node`` computes ``y / 6`` or ``y * (1/6)``."""
    if node.op_type == "Div" and _scalar(node.inputs[1]) == 6.0:
        return node.inputs[0]
    if node.op_type == "Mul":
        for a, b in ((node.inputs[0], node.inputs[1]), (node.inputs[1], node.inputs[0])):
            s = _scalar(b)
            if s is not None and abs(s - 1.0 / 6.0) < 1e-7:
                return a
    return None


class HardActivationFusionPass(InPlacePass):
    """Rewrite rules (after ActivationFusionPass turned ``Clip(x+3, 0, 6)`` into an
    ``Add{do_relu, relu_limit=6}``):

    * ``x · relu6(x + 3) / 6`` → ``HardSwish(x)`` (Div by 6 or Mul by 1/6, either
      operand order of the product);
    * ``relu6(x + 3) / 6`` → ``HardSigmoid(x)`` (alpha 1/6, beta 0.5).

    Exporters write these activations out (PaddlePaddle and older PyTorch
    exports); one op is one LUT in INT8 and one rounding in F16/BF16 instead of
    three. Intermediate tensors must feed only the pattern. The result keeps the
    division's tensor name.
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for node in list(graph.nodes):
            if node.op_type in ("Div", "Mul") and self._match(graph, node):
                modified = True
        return PassResult(module, modified)

    @staticmethod
    def _match(graph: Graph, last: Node) -> bool:
        top = _divided_by_6(last)
        if top is None or top.producer is None or sole_reader(graph, top) is not last:
            return False
        p = top.producer
        x = _relu6_of_x_plus_3(top)
        if x is not None and p.op_type == "Add":
            attrs = {"alpha": 1.0 / 6.0, "beta": 0.5}
            produce_with(graph, last, "HardSigmoid", [x], attrs, [last.output], [p, last])
            add_alias(last.output, retyped(last.output.name, "HardSigmoid"))
            return True
        if p.op_type != "Mul" or len(p.inputs) != 2:
            return False
        for a, b in ((p.inputs[0], p.inputs[1]), (p.inputs[1], p.inputs[0])):
            x = _relu6_of_x_plus_3(b)
            if x is None or x is not a or b is None or b.producer is None:
                continue
            if sole_reader(graph, b) is not p:
                continue
            produce_with(graph, last, "HardSwish", [x], {}, [last.output], [b.producer, p, last])
            add_alias(last.output, retyped(last.output.name, "HardSwish"))
            return True
        return False
