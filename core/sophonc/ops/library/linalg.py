"""MatMul (with optional bias and the fused ReLU) and Einsum.

MatMul is ``np.matmul``: batch dimensions broadcast and 1-D operands are promoted
(a row on the left, a column on the right) and the promoted axis dropped again. The
shape rule for Einsum parses the equation itself (explicit or implicit output,
``...`` broadcasting) rather than running numpy on dummy data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op, fused_relu, given_args, opt_arg
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    attr_error,
    broadcast_shapes,
    broadcasts_onto,
    fmt,
    given_types,
    input_type,
    optional_type,
    same_dtype,
    shape_error,
    shape_of,
)


def matmul_shape(node: Node, a: Shape, b: Shape) -> Shape:
    """The result shape of ``np.matmul`` on ``a`` and ``b``."""
    if not a or not b:
        raise shape_error(node, f"operands {fmt(a)} and {fmt(b)} must have at least one axis")
    a2 = a if len(a) > 1 else (1, a[0])
    b2 = b if len(b) > 1 else (b[0], 1)
    if a2[-1] != b2[-2]:
        raise shape_error(
            node, f"inner dimensions {a2[-1]} and {b2[-2]} of {fmt(a)} @ {fmt(b)} do not match"
        )
    batch = broadcast_shapes(node, [a2[:-2], b2[:-2]])
    rows = (a2[-2],) if len(a) > 1 else ()
    cols = (b2[-1],) if len(b) > 1 else ()
    return batch + rows + cols


def _infer_matmul(node: Node) -> list[TensorType]:
    a, b, bias = input_type(node, 0), input_type(node, 1), optional_type(node, 2)
    dtype = same_dtype(node, [a, b] if bias is None else [a, b, bias])
    out = matmul_shape(node, shape_of(a), shape_of(b))
    if bias is not None and not broadcasts_onto(shape_of(bias), out):
        raise shape_error(node, f"bias {fmt(shape_of(bias))} does not broadcast onto {fmt(out)}")
    return [TensorType(dtype, out)]


@define_op("MatMul", _infer_matmul)
def matmul(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """a @ b (numpy matmul semantics), plus bias broadcast after, then the fused ReLU."""
    a, b, bias = arg(inputs, 0), arg(inputs, 1), opt_arg(inputs, 2)
    y = np.asarray(np.matmul(a, b))
    if bias is not None:
        if y.ndim:
            y += bias
        else:
            y = np.asarray(y + bias)
    return [fused_relu(node, y)]


def _split_equation(node: Node, equation: str, count: int) -> tuple[list[str], str | None]:
    equation = equation.replace(" ", "")
    lhs, arrow, rhs = equation.partition("->")
    terms = lhs.split(",")
    if len(terms) != count:
        raise shape_error(node, f"equation '{equation}' has {len(terms)} operands, not {count}")
    for term in [*terms, rhs]:
        letters = term.replace("...", "")
        if not all(c.isalpha() for c in letters):
            raise attr_error(node, f"equation '{equation}' has a malformed term '{term}'")
    return terms, (rhs if arrow else None)


def einsum_shape(node: Node, equation: str, shapes: Sequence[Shape]) -> Shape:
    """The result shape of ``np.einsum(equation, *operands)``."""
    terms, rhs = _split_equation(node, equation, len(shapes))
    sizes: dict[str, int] = {}
    counts: dict[str, int] = {}
    ellipses: list[Shape] = []
    for term, shape in zip(terms, shapes, strict=True):
        letters = term.replace("...", "")
        extra = len(shape) - len(letters)
        if extra < 0 or (extra and "..." not in term):
            raise shape_error(node, f"term '{term}' does not fit operand {fmt(shape)}")
        head = term.split("...")[0] if "..." in term else term
        dims = list(shape[: len(head)]) + list(shape[len(head) + extra :])
        if "..." in term:
            ellipses.append(tuple(shape[len(head) : len(head) + extra]))
        for c, d in zip(letters, dims, strict=True):
            counts[c] = counts.get(c, 0) + 1
            if sizes.setdefault(c, d) != d:
                if 1 in (sizes[c], d):
                    sizes[c] = max(sizes[c], d)
                else:
                    raise shape_error(node, f"index '{c}' is both {sizes[c]} and {d} long")
    ell = broadcast_shapes(node, ellipses) if ellipses else ()
    if rhs is None:
        return ell + tuple(sizes[c] for c in sorted(counts) if counts[c] == 1)
    out: list[int] = []
    for part_index, part in enumerate(rhs.split("...")):
        if part_index:
            out.extend(ell)
        for c in part:
            if c not in sizes:
                raise shape_error(node, f"output index '{c}' appears in no operand")
            out.append(sizes[c])
    return tuple(out)


def _infer_einsum(node: Node) -> list[TensorType]:
    types = given_types(node)
    if not types:
        raise shape_error(node, "needs at least one operand")
    dtype = same_dtype(node, types)
    equation = node.attrs.get("equation")
    if not isinstance(equation, str):
        raise attr_error(node, "attribute 'equation' is required")
    return [TensorType(dtype, einsum_shape(node, equation, [shape_of(t) for t in types]))]


@define_op("Einsum", _infer_einsum)
def einsum(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Einstein summation over the operands as ``equation`` spells it."""
    xs = given_args(inputs)
    equation = str(node.attrs["equation"]).replace(" ", "")
    y = np.einsum(equation, *xs, optimize=len(xs) > 1)
    return [np.asarray(y).astype(xs[0].dtype, copy=False)]
