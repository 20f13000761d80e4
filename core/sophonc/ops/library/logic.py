"""Ops with bool results: comparisons, And/Or/Xor/Not, IsNaN and IsInf.

Comparisons take two operands of one dtype and broadcast them; the logical ops take
bool operands only, as ONNX requires, so a frontend that forgot a Cast fails at
import instead of computing on numbers by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.library.elementwise import infer_binary
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import input_type, shape_error, shape_of

_FLOATS = ("f64", "f32", "f16", "bf16")


def _infer_compare(node: Node) -> list[TensorType]:
    (t,) = infer_binary(node)
    return [t.with_dtype("bool")]


def _require_bool(node: Node, types: Sequence[TensorType]) -> None:
    for i, t in enumerate(types):
        if t.dtype != "bool":
            raise shape_error(node, f"input {i} must be bool, not {t.dtype}")


def _infer_logic(node: Node) -> list[TensorType]:
    _require_bool(node, [input_type(node, 0), input_type(node, 1)])
    return infer_binary(node)


def _infer_not(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    _require_bool(node, [t])
    return [t]


def _infer_float_test(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    if t.dtype not in _FLOATS:
        raise shape_error(node, f"input must be a float tensor, not {t.dtype}")
    return [TensorType("bool", shape_of(t))]


def _binary(
    name: str,
    infer: Callable[[Node], list[TensorType]],
    ufunc: Callable[[AnyArray, AnyArray], AnyArray],
    doc: str,
) -> None:
    def kernel(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
        return [np.asarray(ufunc(arg(inputs, 0), arg(inputs, 1)))]

    kernel.__doc__ = doc
    kernel.__name__ = name.lower()
    define_op(name, infer)(kernel)


_binary("Equal", _infer_compare, np.equal, "a == b (bool, broadcast).")
_binary("Less", _infer_compare, np.less, "a < b (bool, broadcast).")
_binary("LessOrEqual", _infer_compare, np.less_equal, "a <= b (bool, broadcast).")
_binary("Greater", _infer_compare, np.greater, "a > b (bool, broadcast).")
_binary("GreaterOrEqual", _infer_compare, np.greater_equal, "a >= b (bool, broadcast).")
_binary("And", _infer_logic, np.logical_and, "Logical and of two bool tensors (broadcast).")
_binary("Or", _infer_logic, np.logical_or, "Logical or of two bool tensors (broadcast).")
_binary("Xor", _infer_logic, np.logical_xor, "Logical xor of two bool tensors (broadcast).")


@define_op("Not", _infer_not)
def not_(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Logical not of a bool tensor."""
    return [np.logical_not(arg(inputs, 0))]


@define_op("IsNaN", _infer_float_test)
def isnan(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """True where x is NaN."""
    return [np.isnan(arg(inputs, 0))]


@define_op("IsInf", _infer_float_test)
def isinf(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """True where x is +inf or -inf (frontends AND a sign test for one-sided checks)."""
    return [np.isinf(arg(inputs, 0))]
