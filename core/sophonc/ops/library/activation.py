"""Activations with parameters: LeakyRelu, PRelu, Elu, Selu, HardSigmoid, HardSwish,
Gelu and Clip.

Parameters are Python floats, so under numpy's promotion rules they never widen an
f32 tensor to f64. Clip's bounds are attributes (±inf when absent); on integer
tensors they are clamped to the dtype's range first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    broadcasts_onto,
    choice_attr,
    float_attr,
    fmt,
    input_type,
    same_as_input,
    same_dtype,
    shape_error,
    shape_of,
)
from sophonc.ops.special import erf

#: ONNX Selu's defaults.
SELU_ALPHA = 1.67326319217681884765625
SELU_GAMMA = 1.05070102214813232421875


@define_op("LeakyRelu", same_as_input)
def leaky_relu(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x where x >= 0 else alpha * x (alpha default 0.01)."""
    x = arg(inputs, 0)
    alpha = float_attr(node, "alpha", 0.01)
    return [np.where(x >= 0, x, x * alpha)]


def _infer_prelu(node: Node) -> list[TensorType]:
    x, slope = input_type(node, 0), input_type(node, 1)
    same_dtype(node, [x, slope])
    if not broadcasts_onto(shape_of(slope), shape_of(x)):
        raise shape_error(
            node, f"slope {fmt(shape_of(slope))} does not broadcast onto x {fmt(shape_of(x))}"
        )
    return [x]


@define_op("PRelu", _infer_prelu)
def prelu(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x where x >= 0 else slope * x (slope broadcast onto x)."""
    x, slope = arg(inputs, 0), arg(inputs, 1)
    return [np.where(x >= 0, x, x * slope)]


@define_op("Elu", same_as_input)
def elu(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x where x > 0 else alpha * (exp(x) - 1) (alpha default 1)."""
    x = arg(inputs, 0)
    alpha = float_attr(node, "alpha", 1.0)
    return [np.where(x > 0, x, np.expm1(x) * alpha)]


@define_op("Selu", same_as_input)
def selu(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """gamma * (x where x > 0 else alpha * (exp(x) - 1)), ONNX's default constants."""
    x = arg(inputs, 0)
    alpha = float_attr(node, "alpha", SELU_ALPHA)
    gamma = float_attr(node, "gamma", SELU_GAMMA)
    return [np.where(x > 0, x * gamma, np.expm1(x) * (alpha * gamma))]


def hard_sigmoid_of(x: AnyArray, alpha: float, beta: float) -> AnyArray:
    """``clip(alpha * x + beta, 0, 1)`` in x's dtype."""
    y: AnyArray = x * alpha
    y += beta
    np.clip(y, 0, 1, out=y)
    return y


@define_op("HardSigmoid", same_as_input)
def hard_sigmoid(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """max(0, min(1, alpha * x + beta)) (alpha 0.2, beta 0.5)."""
    alpha = float_attr(node, "alpha", 0.2)
    beta = float_attr(node, "beta", 0.5)
    return [hard_sigmoid_of(arg(inputs, 0), alpha, beta)]


@define_op("HardSwish", same_as_input)
def hard_swish(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x * HardSigmoid(x; alpha=1/6, beta=0.5)."""
    x = arg(inputs, 0)
    y = hard_sigmoid_of(x, 1.0 / 6.0, 0.5)
    y *= x
    return [y]


@define_op("Gelu", same_as_input)
def gelu(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """0.5 * x * (1 + erf(x / sqrt 2)), or with ``approximate`` "tanh" the tanh form
    0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))."""
    x = arg(inputs, 0)
    mode = choice_attr(node, "approximate", "none", ("none", "tanh"))
    wide = x.astype(np.float64)  # 1 + tanh / 1 + erf cancel badly in f32 for x << 0
    if mode == "tanh":
        inner = (wide + 0.044715 * wide**3) * math.sqrt(2.0 / math.pi)
        return [(0.5 * wide * (1.0 + np.tanh(inner))).astype(x.dtype)]
    return [(0.5 * wide * (1.0 + erf(wide / math.sqrt(2.0)))).astype(x.dtype)]


@define_op("Clip", same_as_input)
def clip(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """min(max(x, min), max); bounds default to -inf / +inf."""
    x = arg(inputs, 0)
    lo = float_attr(node, "min", -math.inf)
    hi = float_attr(node, "max", math.inf)
    if np.issubdtype(x.dtype, np.integer):
        info = np.iinfo(x.dtype)
        lo_i = info.min if lo <= info.min else math.ceil(lo)
        hi_i = info.max if hi >= info.max else math.floor(hi)
        return [np.clip(x, x.dtype.type(lo_i), x.dtype.type(hi_i))]
    return [np.clip(x, x.dtype.type(lo), x.dtype.type(hi))]
