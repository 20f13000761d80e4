"""Parameterless unary math: Relu, Sigmoid, Tanh, Exp, Log, Sqrt, Reciprocal, Abs, Neg,
Floor, Ceil, Round, Sign, Erf, Sin, Cos, Softplus, Softsign, Mish and SiLU.

Each keeps its input's dtype. Round is half-to-even (numpy's ``round`` and ONNX
agree). SiLU is ``x * sigmoid(x)``, the op the fusion pass makes of YOLO's
``Mul(x, Sigmoid(x))``. Sigmoid and SiLU are the hottest ops of detection models, so
they run their four steps block by block in the output buffer, each block small
enough to stay in cache between the steps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import same_as_input
from sophonc.ops.special import erf as erf_f64

#: Elements per block of the blockwise Sigmoid / SiLU (128 KiB of f32).
_BLOCK = 1 << 15


def _blockwise(step: Callable[[AnyArray, AnyArray], object], x: AnyArray) -> AnyArray:
    """``step(x_block, out_block)`` over cache-sized blocks of a fresh output."""
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    for start in range(0, flat.size, _BLOCK):
        step(flat[start : start + _BLOCK], out[start : start + _BLOCK])
    return out.reshape(x.shape)


def _sigmoid_step(x: AnyArray, out: AnyArray) -> None:
    np.negative(x, out=out)
    np.exp(out, out=out)  # overflow to inf gives the exact limit 0 below
    out += 1
    np.reciprocal(out, out=out)


def _silu_step(x: AnyArray, out: AnyArray) -> None:
    np.negative(x, out=out)
    np.exp(out, out=out)
    out += 1
    np.divide(x, out, out=out)


def sigmoid_of(x: AnyArray) -> AnyArray:
    """``1 / (1 + exp(-x))`` in x's dtype."""
    return _blockwise(_sigmoid_step, x)


def softplus_of(x: AnyArray) -> AnyArray:
    """``log(1 + exp(x))`` without overflow for large x."""
    return np.asarray(np.logaddexp(x.dtype.type(0), x))


def _unary(name: str, fn: Callable[[AnyArray], AnyArray], doc: str) -> None:
    def kernel(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
        x = arg(inputs, 0)
        return [np.asarray(fn(x)).astype(x.dtype, copy=False)]

    kernel.__doc__ = doc
    kernel.__name__ = name.lower()
    define_op(name, same_as_input)(kernel)


def _relu(x: AnyArray) -> AnyArray:
    return np.asarray(np.maximum(x, x.dtype.type(0)))


def _erf(x: AnyArray) -> AnyArray:
    return erf_f64(x).astype(x.dtype)


def _softsign(x: AnyArray) -> AnyArray:
    d = np.abs(x)
    d += 1
    return np.asarray(x / d)


def _mish(x: AnyArray) -> AnyArray:
    t = softplus_of(x)
    np.tanh(t, out=t)
    t *= x
    return t


def _silu(x: AnyArray) -> AnyArray:
    return _blockwise(_silu_step, x)


_unary("Relu", _relu, "max(x, 0).")
_unary("Sigmoid", sigmoid_of, "1 / (1 + exp(-x)).")
_unary("Tanh", np.tanh, "Hyperbolic tangent.")
_unary("Exp", np.exp, "e ** x.")
_unary("Log", np.log, "Natural logarithm (-inf at 0, NaN below).")
_unary("Sqrt", np.sqrt, "Square root (NaN below 0).")
_unary("Reciprocal", np.reciprocal, "1 / x.")
_unary("Abs", np.abs, "|x|.")
_unary("Neg", np.negative, "-x.")
_unary("Floor", np.floor, "Largest integer not above x.")
_unary("Ceil", np.ceil, "Smallest integer not below x.")
_unary("Round", np.round, "Nearest integer, ties to even.")
_unary("Sign", np.sign, "-1, 0 or 1 by the sign of x.")
_unary("Erf", _erf, "The error function (computed in float64).")
_unary("Sin", np.sin, "Sine.")
_unary("Cos", np.cos, "Cosine.")
_unary("Softplus", softplus_of, "log(1 + exp(x)).")
_unary("Softsign", _softsign, "x / (1 + |x|).")
_unary("Mish", _mish, "x * tanh(softplus(x)).")
_unary("SiLU", _silu, "x * sigmoid(x) (the fused form of Mul(x, Sigmoid(x))).")
