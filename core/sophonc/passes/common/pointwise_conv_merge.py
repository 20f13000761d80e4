"""Merge a linear 1×1 convolution into the 1×1 convolution that reads it.

Two pointwise convolutions with nothing between them are one matrix product,
``W = W2 · W1`` and ``b = W2 · b1 + b2``. Keeping them apart costs an INT8
model a requantization of the tensor between them, with its own threshold and
rounding. TPU-MLIR merges them at transform time (its weights are named
``<second>_merge_filter_weight``), so its calibration table has no row for the
tensor in between: PP-OCR's classifier has one such pair, its detector four.
"""

from __future__ import annotations

import numpy as np

from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import f32_const, produce_with, sole_reader


def _pointwise(conv: Node) -> bool:
    """A 2-D, ungrouped, unpadded, undilated Conv with a constant 1×1 filter."""
    w = f32_const(conv.opt_input(1))
    if conv.op_type != "Conv" or w is None or w.ndim != 4 or w.shape[2:] != (1, 1):
        return False
    if conv.int("group", 1) != 1 or any(int(p) != 0 for p in conv.ints("pads", ())):
        return False
    if any(int(d) != 1 for d in conv.ints("dilations", ())):
        return False
    bias = conv.opt_input(2)
    return bias is None or bias.const is not None


def _weights(conv: Node) -> tuple[np.ndarray, np.ndarray]:
    w = f32_const(conv.opt_input(1))
    assert w is not None
    bias = f32_const(conv.opt_input(2))
    matrix = w.reshape(w.shape[0], w.shape[1])
    return matrix, np.zeros(w.shape[0], np.float32) if bias is None else bias.reshape(-1)


def merged(
    w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(W2·W1, W2·b1 + b2)`` summed in float32 over the middle channels in order,
    ``b2`` added last: TPU-MLIR's merged weights, bit for bit (a float64 or BLAS
    product differs from them in the last bit of about half the entries)."""
    weight = np.zeros((w2.shape[0], w1.shape[1]), np.float32)
    bias = np.zeros(w2.shape[0], np.float32)
    for k in range(w1.shape[0]):
        weight += w2[:, k : k + 1] * w1[k : k + 1, :]
        bias += w2[:, k] * b1[k]
    return weight, bias + b2


class PointwiseConvMergePass(InPlacePass):
    """``Conv1x1(Conv1x1(x, W1, b1), W2, b2)`` → ``Conv1x1(x, W2·W1, W2·b1 + b2)``.

    The first conv has stride 1, no fused activation and no other reader; the
    second may stride and carry a fused ReLU. The products are :func:`merged`'s.
    The merged conv produces the second conv's tensor, as in
    TPU-MLIR, so the tensor between them is gone.
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for second in list(graph.nodes):
            if not _pointwise(second) or second.inputs[0] is None:
                continue
            first = second.inputs[0].producer
            if first is None or not _pointwise(first) or first.attrs.get("do_relu"):
                continue
            if any(int(s) != 1 for s in first.ints("strides", ())):
                continue
            if sole_reader(graph, first.outputs[0]) is not second:
                continue
            w, b = merged(*_weights(first), *_weights(second))
            base = second.outputs[0].name
            weight = Value.weight(f"{base}_merge_filter", w.reshape(*w.shape, 1, 1))
            bias = Value.weight(f"{base}_merge_bias", b)
            produce_with(
                graph,
                second,
                "Conv",
                [first.inputs[0], weight, bias],
                dict(second.attrs),
                [second.outputs[0]],
                [first, second],
            )
            modified = True
        return PassResult(module, modified)
