"""Fuse activations into the ops before them, the way the chips compute them."""

from __future__ import annotations

import math

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import produce_with, sole_reader

#: Ops whose result the chips can clamp at 0 (and an upper limit) for free.
RELU_FUSABLE = frozenset(
    {"Conv", "ConvTranspose", "MatMul", "Add", "Sub", "Mul", "AveragePool", "MaxPool", "Concat"}
)


def _relu_limit(act: Node) -> float | None:
    """-1 (no upper bound) for Relu, the upper bound for Clip(0, m); None otherwise."""
    if act.op_type == "Relu":
        return -1.0
    if act.op_type == "Clip" and act.float("min", -math.inf) == 0.0:
        upper = act.float("max", math.inf)
        return -1.0 if math.isinf(upper) else upper
    return None


class ActivationFusionPass(InPlacePass):
    """Rewrite rules:

    * ``Relu(op(…))`` → ``op(…){do_relu}`` and ``Clip(op(…), 0, m)`` →
      ``op(…){do_relu, relu_limit=m}`` for the ops in :data:`RELU_FUSABLE`, when
      the op's result feeds only the activation — TPU-MLIR's fused ReLU, which
      the chips apply in the same instruction;
    * ``Mul(x, Sigmoid(x))`` → ``SiLU(x)`` (either operand order), when the
      Sigmoid feeds only that Mul — one LUT on the chip instead of two ops.

    The fused op produces the activation's (or the Mul's) output tensor, so the
    surviving name is the one the framework's dump has.
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for node in list(graph.nodes):
            if node.op_type in ("Relu", "Clip"):
                modified |= self._fuse_relu(graph, node)
            elif node.op_type == "Mul":
                modified |= self._fuse_silu(graph, node)
        return PassResult(module, modified)

    @staticmethod
    def _fuse_relu(graph: Graph, act: Node) -> bool:
        limit = _relu_limit(act)
        x = act.inputs[0] if act.inputs else None
        if limit is None or x is None or x.producer is None:
            return False
        op = x.producer
        if op.op_type not in RELU_FUSABLE or len(op.outputs) != 1 or op.attrs.get("do_relu"):
            return False
        if sole_reader(graph, x) is not act or x.type != act.outputs[0].type:
            return False
        attrs = dict(op.attrs)
        attrs["do_relu"] = True
        attrs["relu_limit"] = float(limit)
        produce_with(graph, act, op.op_type, list(op.inputs), attrs, [act.outputs[0]], [op, act])
        return True

    @staticmethod
    def _fuse_silu(graph: Graph, mul: Node) -> bool:
        if len(mul.inputs) != 2 or mul.attrs.get("do_relu"):
            return False
        for a, b in ((mul.inputs[0], mul.inputs[1]), (mul.inputs[1], mul.inputs[0])):
            if a is None or b is None or b.producer is None:
                continue
            sig = b.producer
            if sig.op_type != "Sigmoid" or sig.inputs[0] is not a:
                continue
            if sole_reader(graph, b) is not mul or a.type != mul.outputs[0].type:
                continue
            produce_with(graph, mul, "SiLU", [a], {}, [mul.outputs[0]], [sig, mul])
            return True
        return False
