"""Fixed rearrangements of NCHW blocks and matrices: DepthToSpace, SpaceToDepth, Trilu.

DepthToSpace's two modes differ only in where the block index sits in the channel
axis: DCR (depth-column-row, the default) takes it from the high end of the channel
index, CRD from the low end. Trilu keeps the upper or lower triangle of the last two
axes, ``k`` diagonals above (k > 0) or below (k < 0) the main one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    choice_attr,
    fmt,
    input_type,
    int_attr,
    same_as_input,
    shape_error,
    shape_of,
)


def _block(node: Node, x: Shape) -> int:
    b = int_attr(node, "blocksize")
    if len(x) != 4 or b < 1:
        raise shape_error(node, f"needs a 4-D input and a positive blocksize, got {fmt(x)}, {b}")
    return b


def _infer_d2s(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    b = _block(node, x)
    choice_attr(node, "mode", "DCR", ("DCR", "CRD"))
    if x[1] % (b * b):
        raise shape_error(node, f"channels of {fmt(x)} are not divisible by blocksize^2 = {b * b}")
    return [t.with_shape((x[0], x[1] // (b * b), x[2] * b, x[3] * b))]


@define_op("DepthToSpace", _infer_d2s)
def depth_to_space(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Channel blocks moved into blocksize x blocksize spatial tiles (DCR or CRD)."""
    x = arg(inputs, 0)
    b = _block(node, x.shape)
    n, c, h, w = x.shape
    depth = c // (b * b)
    if choice_attr(node, "mode", "DCR", ("DCR", "CRD")) == "DCR":
        y = x.reshape(n, b, b, depth, h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        y = x.reshape(n, depth, b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return [np.ascontiguousarray(y).reshape(n, depth, h * b, w * b)]


def _infer_s2d(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    b = _block(node, x)
    if x[2] % b or x[3] % b:
        raise shape_error(node, f"spatial size of {fmt(x)} is not divisible by blocksize {b}")
    return [t.with_shape((x[0], x[1] * b * b, x[2] // b, x[3] // b))]


@define_op("SpaceToDepth", _infer_s2d)
def space_to_depth(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """blocksize x blocksize spatial tiles moved into channels (the inverse of DCR)."""
    x = arg(inputs, 0)
    b = _block(node, x.shape)
    n, c, h, w = x.shape
    y = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 3, 5, 1, 2, 4)
    return [np.ascontiguousarray(y).reshape(n, c * b * b, h // b, w // b)]


def _infer_trilu(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    if len(shape_of(t)) < 2:
        raise shape_error(node, f"needs at least 2 axes, got {fmt(shape_of(t))}")
    return same_as_input(node)


@define_op("Trilu", _infer_trilu)
def trilu(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Upper (``upper`` 1) or lower triangle of the last two axes from diagonal ``k``;
    the rest zero."""
    x = arg(inputs, 0)
    k = int_attr(node, "k", 0)
    if int_attr(node, "upper", 1):
        return [np.triu(x, k)]
    return [np.tril(x, k)]
