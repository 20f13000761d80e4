"""Broadcasting arithmetic: Add, Sub, Mul, Div, Pow, Mod, the variadic Max, Min, Sum,
Mean, and Where.

Operands share one dtype (ONNX allows no implicit promotion, so neither does the IR)
and the result keeps it. Integer Div truncates toward zero as C and ONNX do, not
toward minus infinity as numpy's ``//`` does. Add, Sub and Mul carry the fused ReLU
that canonicalisation folds into them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op, fused_relu, given_args
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    broadcast_shapes,
    given_types,
    input_type,
    int_attr,
    same_dtype,
    shape_error,
    shape_of,
)


def infer_binary(node: Node) -> list[TensorType]:
    """Two operands of one dtype broadcast together; the result keeps the dtype."""
    a, b = input_type(node, 0), input_type(node, 1)
    dtype = same_dtype(node, [a, b])
    return [TensorType(dtype, broadcast_shapes(node, [shape_of(a), shape_of(b)]))]


def infer_variadic(node: Node) -> list[TensorType]:
    """One or more operands of one dtype broadcast together."""
    types = given_types(node)
    if not types:
        raise shape_error(node, "needs at least one input")
    dtype = same_dtype(node, types)
    return [TensorType(dtype, broadcast_shapes(node, [shape_of(t) for t in types]))]


def _infer_pow(node: Node) -> list[TensorType]:
    a, b = input_type(node, 0), input_type(node, 1)
    return [TensorType(a.dtype, broadcast_shapes(node, [shape_of(a), shape_of(b)]))]


def _infer_where(node: Node) -> list[TensorType]:
    cond, a, b = (input_type(node, i) for i in range(3))
    if cond.dtype != "bool":
        raise shape_error(node, f"the condition must be bool, not {cond.dtype}")
    dtype = same_dtype(node, [a, b])
    shapes = [shape_of(cond), shape_of(a), shape_of(b)]
    return [TensorType(dtype, broadcast_shapes(node, shapes))]


def _is_int(x: AnyArray) -> bool:
    return bool(np.issubdtype(x.dtype, np.integer))


def _fused_binary(name: str, ufunc: Callable[[AnyArray, AnyArray], AnyArray]) -> None:
    def kernel(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
        y = np.asarray(ufunc(arg(inputs, 0), arg(inputs, 1)))
        return [fused_relu(node, y)]

    kernel.__doc__ = f"{name}(a, b) with numpy broadcasting, then the fused ReLU if set."
    kernel.__name__ = name.lower()
    define_op(name, infer_binary)(kernel)


_fused_binary("Add", np.add)
_fused_binary("Sub", np.subtract)
_fused_binary("Mul", np.multiply)


def truncating_divide(a: AnyArray, b: AnyArray) -> AnyArray:
    """Integer quotient rounded toward zero (C semantics); 0 where ``b`` is 0."""
    q: AnyArray = np.floor_divide(a, b)
    inexact = np.remainder(a, b) != 0
    q += (inexact & ((a < 0) != (b < 0))).astype(q.dtype)
    return q


@define_op("Div", infer_binary)
def div(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """a / b; integer operands truncate toward zero."""
    a, b = arg(inputs, 0), arg(inputs, 1)
    if _is_int(a):
        return [truncating_divide(a, b)]
    return [np.divide(a, b)]


@define_op("Pow", _infer_pow)
def pow_(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """a ** b in a's dtype; integer bases with negative exponents go through float64."""
    a, b = arg(inputs, 0), arg(inputs, 1)
    if _is_int(a):
        if _is_int(b) and not np.any(b < 0):
            return [np.power(a, b.astype(a.dtype)).astype(a.dtype, copy=False)]
        return [np.power(a.astype(np.float64), b.astype(np.float64)).astype(a.dtype)]
    return [np.power(a, b.astype(a.dtype, copy=False))]


@define_op("Mod", infer_binary)
def mod(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Remainder: ``fmod`` 1 takes the dividend's sign (C fmod), 0 the divisor's."""
    a, b = arg(inputs, 0), arg(inputs, 1)
    if int_attr(node, "fmod", 0):
        return [np.fmod(a, b)]
    return [np.mod(a, b)]


def _variadic(name: str, combine: Callable[[AnyArray, AnyArray], Any], doc: str) -> None:
    def kernel(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
        xs = given_args(inputs)
        y = functools.reduce(combine, xs[1:], xs[0])
        return [np.array(y, copy=True) if len(xs) == 1 else np.asarray(y)]

    kernel.__doc__ = doc
    kernel.__name__ = name.lower()
    define_op(name, infer_variadic)(kernel)


_variadic("Max", np.maximum, "Elementwise maximum of every input (broadcast).")
_variadic("Min", np.minimum, "Elementwise minimum of every input (broadcast).")
_variadic("Sum", np.add, "Elementwise sum of every input (broadcast).")


@define_op("Mean", infer_variadic)
def mean(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Elementwise mean of every input (broadcast), in the inputs' dtype."""
    xs = given_args(inputs)
    total = functools.reduce(np.add, xs[1:], xs[0])
    return [np.divide(total, len(xs)).astype(xs[0].dtype, copy=False)]


@define_op("Where", _infer_where)
def where(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """a where cond else b (all three broadcast)."""
    return [np.where(arg(inputs, 0), arg(inputs, 1), arg(inputs, 2))]
