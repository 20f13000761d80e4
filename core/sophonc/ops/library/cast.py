"""Cast and Identity.

Cast converts with numpy's ``astype``, whose float-to-integer conversion truncates
toward zero like C's, and whose float-to-f16/bf16 conversion rounds to nearest
even, as ONNX specifies. Identity returns its input unchanged (kernels never write
into their inputs, so sharing the array is safe); canonicalisation removes it.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.ir.node import Node
from sophonc.ir.types import DTYPES, TensorType, numpy_dtype
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import choice_attr, input_type, same_as_input, shape_of


def _target(node: Node) -> str:
    return choice_attr(node, "to", "", tuple(DTYPES))


def _infer_cast(node: Node) -> list[TensorType]:
    return [TensorType(_target(node), shape_of(input_type(node, 0)))]


@define_op("Cast", _infer_cast)
def cast(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x converted to the IR dtype ``to``; float to integer truncates toward zero."""
    return [arg(inputs, 0).astype(numpy_dtype(_target(node)))]


@define_op("Identity", same_as_input)
def identity(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x unchanged."""
    return [arg(inputs, 0)]
