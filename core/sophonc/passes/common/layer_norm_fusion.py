"""Recognise LayerNormalization written out in elementary ops."""

from __future__ import annotations

import numpy as np

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.shadows import add_alias
from sophonc.ir.value import Value
from sophonc.passes.common.hard_activation_fusion import retyped
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import produce_with, sole_reader


def _scalar(v: Value | None) -> float | None:
    if v is None or v.const is None or np.asarray(v.const).size != 1:
        return None
    return float(np.asarray(v.const).reshape(-1)[0])


def _producer(v: Value | None, op_type: str) -> Node | None:
    if v is None or v.producer is None or v.producer.op_type != op_type:
        return None
    return v.producer


def _trailing_axes(node: Node, rank: int) -> tuple[int, ...] | None:
    """The reduced axes when they are the last ones and kept; None otherwise."""
    if node.int("keepdims", 1) != 1:
        return None
    axes = tuple(sorted(a % rank for a in node.ints("axes", ())))
    if not axes or axes != tuple(range(rank - len(axes), rank)):
        return None
    return axes


def _squared(v: Value | None, d: Value) -> Node | None:
    """The node computing ``d²`` (``Pow(d, 2)`` or ``Mul(d, d)``) that makes ``v``."""
    p = None if v is None else v.producer
    if p is None:
        return None
    if p.op_type == "Pow" and p.inputs[0] is d and _scalar(p.inputs[1]) == 2.0:
        return p
    if p.op_type == "Mul" and p.inputs[0] is d and p.inputs[1] is d:
        return p
    return None


def _fits(data: np.ndarray, norm_shape: tuple[int, ...]) -> bool:
    """Whether a γ/β constant varies only over the normalized trailing axes."""
    if data.size == 1:
        return True
    if data.size != int(np.prod(norm_shape)) or data.ndim < len(norm_shape):
        return False
    return tuple(data.shape[data.ndim - len(norm_shape) :]) == norm_shape


def _affine(
    graph: Graph, v: Value, op: str, norm_shape: tuple[int, ...]
) -> tuple[Node, Value] | None:
    """``v``'s only reader when it is ``op(v, c)`` with ``c`` a constant over the
    normalized axes (a gamma for Mul, a beta for Add)."""
    reader = sole_reader(graph, v)
    if reader is None or reader.op_type != op or reader.attrs.get("do_relu"):
        return None
    a, b = reader.inputs[0], reader.inputs[1]
    const = b if a is v else (a if b is v else None)
    if const is None or const.const is None:
        return None
    if not _fits(np.asarray(const.const), norm_shape):
        return None
    return reader, const


class LayerNormFusionPass(InPlacePass):
    """``(x - mean(x)) / sqrt(mean((x - mean(x))²) + eps) [· γ] [+ β]`` → ``LayerNormalization``.

    Both means reduce the same trailing axes with ``keepdims``; the square is
    ``Pow(d, 2)`` or ``d·d``; ``γ``/``β`` are constants over the normalized
    width. Exporters that predate ONNX's LayerNormalization (opset < 17) write it
    this way; as one op it runs in the chip's float type in INT8 mode, as
    TPU-MLIR keeps LayerNorm, instead of eight ops drifting in int8. The result
    keeps the last matched op's tensor name.
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for node in list(graph.nodes):
            if node.op_type == "Div" and node.inputs[0] is not None:
                modified |= self._match(graph, node)
        return PassResult(module, modified)

    @staticmethod
    def _match(graph: Graph, div: Node) -> bool:
        d, s = div.inputs[0], div.inputs[1]
        sub = _producer(d, "Sub")
        sqrt = _producer(s, "Sqrt")
        if d is None or sub is None or sqrt is None:
            return False
        x, mean = sub.inputs[0], sub.inputs[1]
        mean_node = _producer(mean, "ReduceMean")
        add_eps = _producer(sqrt.inputs[0], "Add")
        if x is None or mean_node is None or mean_node.inputs[0] is not x or add_eps is None:
            return False
        eps = _scalar(add_eps.inputs[1])
        var_node = _producer(add_eps.inputs[0], "ReduceMean")
        if eps is None or var_node is None:
            return False
        square = _squared(var_node.inputs[0], d)
        rank = len(x.shape)
        axes = _trailing_axes(mean_node, rank)
        if square is None or axes is None or _trailing_axes(var_node, rank) != axes:
            return False
        inner = [mean, var_node.inputs[0], add_eps.inputs[0], s, sqrt.inputs[0]]
        if any(v is None or len(v.uses()) != 1 for v in inner):
            return False
        if {u.node.name for u in d.uses()} != {square.name, div.name}:
            return False
        norm_shape = tuple(x.shape[a] for a in axes)
        replaced = [mean_node, sub, square, var_node, add_eps, sqrt, div]
        last = div
        gamma = beta = None
        found = _affine(graph, div.output, "Mul", norm_shape)
        if found is not None:
            last, gamma = found
            replaced.append(last)
            found = _affine(graph, last.output, "Add", norm_shape)
            if found is not None:
                last, beta = found
                replaced.append(last)
        base = last.output.name
        g = Value.weight(f"{base}_scale", _as_shape(gamma, norm_shape, 1.0))
        b = Value.weight(f"{base}_bias", _as_shape(beta, norm_shape, 0.0))
        attrs = {"axis": rank - len(axes), "epsilon": float(eps)}
        produce_with(graph, last, "LayerNormalization", [x, g, b], attrs, [last.output], replaced)
        add_alias(last.output, retyped(last.output.name, "LayerNormalization"))
        return True


def _as_shape(v: Value | None, shape: tuple[int, ...], fill: float) -> np.ndarray:
    """γ or β as an array of the normalized shape (``fill`` when absent)."""
    if v is None:
        return np.full(shape, fill, dtype=np.float32)
    data = np.asarray(v.const, dtype=np.float32).reshape(-1)
    return np.broadcast_to(data, (int(np.prod(shape)),)).reshape(shape).astype(np.float32)
