"""Fold an inference BatchNormalization into the convolution before it."""

from __future__ import annotations

import numpy as np

from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.shadows import add_alias
from sophonc.ir.value import Value
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import f32_const, produce_with, sole_reader


class BatchNormFoldPass(InPlacePass):
    """``BatchNormalization(Conv(x, W, b))`` → ``Conv(x, W', b')``.

    With ``s = scale / sqrt(var + eps)`` per output channel: ``W'[c] = W[c] * s[c]``
    and ``b'[c] = b[c] * s[c] + (bias[c] - mean[c] * s[c])`` (no ``b`` term when the
    conv has none), every step in float32 as TPU-MLIR's importer computes it: its
    folded weights are then ours bit for bit, and so are the int8 weight scales
    and the requant multipliers derived from them (folding in float64 moved
    about one weight in twenty by an ulp, enough to change a multiplier's last
    bits and a rounding tie in the PP-OCR classifier). Applies when the conv's weight
    and the BN parameters are constants, the conv output feeds only the BN, and
    the conv carries no fused activation. The folded Conv produces the BN's
    output tensor, so the surviving name is the one a framework dump has for the
    BN. ConvTranspose folds too when ``group == 1`` (its output channels are
    weight axis 1).
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for bn in list(graph.nodes):
            if bn.op_type != "BatchNormalization" or bn.inputs[0] is None:
                continue
            conv = bn.inputs[0].producer
            if conv is None or conv.op_type not in ("Conv", "ConvTranspose"):
                continue
            if sole_reader(graph, conv.outputs[0]) is not bn or conv.attrs.get("do_relu"):
                continue
            folded = self._fold(conv, bn)
            if folded is None:
                continue
            weight, bias = folded
            conv_name = conv.outputs[0].name
            produce_with(
                graph,
                bn,
                conv.op_type,
                [conv.inputs[0], weight, bias],
                dict(conv.attrs),
                [bn.outputs[0]],
                [conv, bn],
            )
            # TPU-MLIR keeps the Conv's name for the folded result.
            add_alias(bn.outputs[0], conv_name)
            modified = True
        return PassResult(module, modified)

    @staticmethod
    def _fold(conv: Node, bn: Node) -> tuple[Value, Value] | None:
        w = f32_const(conv.opt_input(1))
        params = [f32_const(bn.opt_input(i)) for i in range(1, 5)]
        if w is None or any(p is None for p in params):
            return None
        scale, beta, mean, var = (np.asarray(p).reshape(-1) for p in params if p is not None)
        channel_axis = 0
        if conv.op_type == "ConvTranspose":
            if conv.int("group", 1) != 1:
                return None
            channel_axis = 1
        channels = w.shape[channel_axis]
        if any(p.size != channels for p in (scale, beta, mean, var)):
            return None
        b_in = conv.opt_input(2)
        b = f32_const(b_in)
        if b_in is not None and b is None:
            return None
        s = scale / np.sqrt(var + np.float32(bn.float("epsilon", 1e-5)))
        view = [1] * w.ndim
        view[channel_axis] = channels
        w_new = (w * s.reshape(view)).astype(np.float32)
        shift = beta - mean * s
        b_new = (shift if b is None else b.reshape(-1) * s + shift).astype(np.float32)
        base = bn.outputs[0].name
        return Value.weight(f"{base}_filter", w_new), Value.weight(f"{base}_bias", b_new)
