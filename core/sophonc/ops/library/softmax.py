"""Softmax and LogSoftmax over one axis (the opset-13 form).

Both subtract the axis maximum first, so large logits neither overflow nor lose
the small probabilities' precision.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import axis_attr, input_type, shape_of


def _infer(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    axis_attr(node, max(len(shape_of(t)), 1), -1)
    return [t]


def _shifted(node: Node, x: AnyArray) -> tuple[AnyArray, int]:
    axis = axis_attr(node, max(x.ndim, 1), -1) if x.ndim else 0
    if x.ndim == 0:
        x = x.reshape(1)
    shifted: AnyArray = x - np.max(x, axis=axis, keepdims=True)
    return shifted, axis


@define_op("Softmax", _infer)
def softmax(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """exp(x) / sum(exp(x)) over ``axis``."""
    x = arg(inputs, 0)
    e, axis = _shifted(node, x)
    np.exp(e, out=e)
    e /= np.sum(e, axis=axis, keepdims=True)
    return [e.reshape(x.shape)]


@define_op("LogSoftmax", _infer)
def log_softmax(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x - log(sum(exp(x))) over ``axis``."""
    x = arg(inputs, 0)
    s, axis = _shifted(node, x)
    s -= np.log(np.sum(np.exp(s), axis=axis, keepdims=True))
    return [s.reshape(x.shape)]
