"""Fold per-channel constant scales and shifts into the convolution before them."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.shadows import carry
from sophonc.ir.value import Value
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import produce_with, sole_reader

F64 = npt.NDArray[np.float64]


def _channel_vector(c: Value, channels: int, rank: int) -> F64 | None:
    """The constant as one value per output channel, or None if it varies otherwise.

    Accepted shapes: a scalar, or anything that broadcasts against ``(N, C, …)``
    along the channel axis only (``[C,1,1]``, ``[1,C,1,1]``, ``[1]``, …).
    """
    data = np.asarray(c.const, dtype=np.float64)
    if data.ndim > rank:
        return None
    full = data.reshape((1,) * (rank - data.ndim) + data.shape)
    if any(d != 1 for i, d in enumerate(full.shape) if i != 1):
        return None
    if full.shape[1] not in (1, channels):
        return None
    return np.broadcast_to(full.reshape(-1), (channels,)).astype(np.float64)


def _operands(node: Node, conv_out: Value) -> Value | None:
    """The constant operand of an elementwise op applied to ``conv_out``."""
    a, b = node.inputs[0], node.inputs[1] if len(node.inputs) > 1 else None
    if a is conv_out and b is not None and b.const is not None:
        return b
    if node.op_type in ("Mul", "Add") and b is conv_out and a is not None and a.const is not None:
        return a
    return None


class AffineIntoConvPass(InPlacePass):
    """``Conv(x) * c``, ``Conv(x) / c``, ``Conv(x) + c``, ``Conv(x) - c`` → ``Conv'(x)``.

    ``c`` is a constant that is a scalar or varies only along the output channels.
    Scales multiply the filter and the bias of their channel, shifts add to the
    bias (float64, stored f32). Applies when the conv's output feeds only that op
    and has no fused activation (a ReLU between would not commute). Exported
    models write BatchNorm-like affines this way (PP-OCR's learnable scales): one
    Conv instead of three ops is faster on every target and rounds once in
    F16/BF16/INT8 instead of three times. The result keeps the last op's tensor
    name.
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for node in list(graph.nodes):
            if node.op_type not in ("Mul", "Add", "Sub", "Div") or node.attrs.get("do_relu"):
                continue
            for conv_out in node.inputs:
                conv = None if conv_out is None else conv_out.producer
                if conv is None or conv_out is None or conv.op_type != "Conv":
                    continue
                if conv.attrs.get("do_relu") or sole_reader(graph, conv_out) is not node:
                    continue
                if node.output.type != conv_out.type:
                    continue
                if self._fold(graph, conv, node, conv_out):
                    modified = True
                    break
        return PassResult(module, modified)

    @staticmethod
    def _fold(graph: Graph, conv: Node, node: Node, conv_out: Value) -> bool:
        const = _operands(node, conv_out)
        w_in = conv.opt_input(1)
        if const is None or w_in is None or w_in.const is None:
            return False
        w = np.asarray(w_in.const, dtype=np.float64)
        channels = w.shape[0]
        vec = _channel_vector(const, channels, len(conv_out.shape))
        if vec is None:
            return False
        b_in = conv.opt_input(2)
        if b_in is not None and b_in.const is None:
            return False
        b = np.zeros(channels) if b_in is None else np.asarray(b_in.const, np.float64).reshape(-1)
        op = node.op_type
        if op == "Div" and np.any(vec == 0):
            return False
        scale = {"Mul": vec, "Div": 1.0 / vec}.get(op, np.ones(channels))
        shift = {"Add": vec, "Sub": -vec}.get(op, np.zeros(channels))
        view = (channels,) + (1,) * (w.ndim - 1)
        base = node.output.name
        new_w = Value.weight(f"{base}_filter", (w * scale.reshape(view)).astype(np.float32))
        new_b = Value.weight(f"{base}_bias", (b * scale + shift).astype(np.float32))
        produce_with(
            graph, node, "Conv", [conv.inputs[0], new_w, new_b], dict(conv.attrs),
            [node.output], [conv, node],
        )  # fmt: skip
        if op == "Add" and b_in is None and np.asarray(const.const).size > 1:
            # A per-channel Add after a bias-free Conv is that Conv's bias to TPU-MLIR:
            # its tensor under the Conv's name holds the sum.
            carry(conv_out, node.output)
        else:
            # The conv's own result (TPU-MLIR keeps it) is (y - shift) / scale.
            carry(conv_out, node.output, 1.0 / scale, -shift / scale, axis=1)
        return True
