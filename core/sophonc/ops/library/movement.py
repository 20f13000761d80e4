"""Data movement without arithmetic: Reshape, Transpose, Concat (fused ReLU), Split,
Slice, Tile, Expand and Pad.

Every size is an attribute, so the shape rules are exact. Reshape returns a view of
its input; everything else returns a fresh contiguous array (a transposed view
would make every later kernel walk memory the slow way).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ops.kernel_support import AnyArray, arg, define_op, fused_relu, given_args
from sophonc.ops.registry import Array
from sophonc.ops.shape_rules import (
    Shape,
    attr_error,
    axis_attr,
    broadcast_shapes,
    choice_attr,
    float_attr,
    fmt,
    given_types,
    input_type,
    ints_attr,
    norm_axis,
    numel,
    same_dtype,
    shape_error,
    shape_of,
)


def _infer_reshape(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    shape = ints_attr(node, "shape")
    if any(d < 0 for d in shape) or numel(shape) != t.numel:
        raise shape_error(
            node, f"cannot reshape {fmt(shape_of(t))} ({t.numel} elements) to {fmt(shape)}"
        )
    return [t.with_shape(shape)]


@define_op("Reshape", _infer_reshape)
def reshape(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x with the fully resolved ``shape`` (no 0 or -1), row-major order kept."""
    return [arg(inputs, 0).reshape(ints_attr(node, "shape"))]


def _perm(node: Node, rank: int) -> tuple[int, ...]:
    perm = ints_attr(node, "perm", tuple(range(rank - 1, -1, -1)))
    if sorted(norm_axis(node, p, rank, "perm entry") for p in perm) != list(range(rank)):
        raise shape_error(node, f"perm {list(perm)} is not a permutation of {rank} axes")
    return tuple(p % rank for p in perm)


def _infer_transpose(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    return [t.with_shape(tuple(x[p] for p in _perm(node, len(x))))]


@define_op("Transpose", _infer_transpose)
def transpose(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Axes permuted by ``perm`` (reversed when absent)."""
    x = arg(inputs, 0)
    return [np.ascontiguousarray(np.transpose(x, _perm(node, x.ndim)))]


def _infer_concat(node: Node) -> list[TensorType]:
    types = given_types(node)
    if not types:
        raise shape_error(node, "needs at least one input")
    dtype = same_dtype(node, types)
    first = shape_of(types[0])
    axis = axis_attr(node, len(first))
    total = 0
    for t in types:
        s = shape_of(t)
        if len(s) != len(first) or s[:axis] + s[axis + 1 :] != first[:axis] + first[axis + 1 :]:
            shown = ", ".join(fmt(shape_of(u)) for u in types)
            raise shape_error(node, f"inputs {shown} differ outside axis {axis}")
        total += s[axis]
    return [TensorType(dtype, (*first[:axis], total, *first[axis + 1 :]))]


@define_op("Concat", _infer_concat)
def concat(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Inputs joined along ``axis``; fused ReLU."""
    xs = given_args(inputs)
    y = np.concatenate(xs, axis=axis_attr(node, xs[0].ndim))
    return [fused_relu(node, y)]


def _split_sizes(node: Node, x: Shape) -> tuple[int, tuple[int, ...]]:
    axis = axis_attr(node, len(x))
    sizes = ints_attr(node, "split")
    if any(s < 0 for s in sizes) or sum(sizes) != x[axis]:
        raise shape_error(node, f"sizes {list(sizes)} do not add up to axis {axis} of {fmt(x)}")
    if len(sizes) != len(node.outputs):
        raise shape_error(node, f"{len(sizes)} sizes for {len(node.outputs)} outputs")
    return axis, sizes


def _infer_split(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    axis, sizes = _split_sizes(node, x)
    return [t.with_shape((*x[:axis], s, *x[axis + 1 :])) for s in sizes]


@define_op("Split", _infer_split)
def split(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Consecutive pieces of ``split`` sizes along ``axis``, one output each."""
    x = arg(inputs, 0)
    axis, sizes = _split_sizes(node, x.shape)
    bounds = np.cumsum((0, *sizes))
    index: list[slice] = [slice(None)] * x.ndim
    outs: list[AnyArray] = []
    for lo, hi in itertools.pairwise(bounds):
        index[axis] = slice(int(lo), int(hi))
        outs.append(np.array(x[tuple(index)], copy=True))
    return outs


def slice_plan(node: Node, x: Shape) -> tuple[tuple[slice, ...], Shape]:
    """Python slices and the result shape of a Slice, with ONNX's clamping rules."""
    starts = ints_attr(node, "starts")
    ends = ints_attr(node, "ends")
    axes = ints_attr(node, "axes", tuple(range(len(starts))))
    steps = ints_attr(node, "steps", (1,) * len(starts))
    if not len(starts) == len(ends) == len(axes) == len(steps):
        raise attr_error(node, "starts, ends, axes and steps must have one value per axis")
    index: list[slice] = [slice(None)] * len(x)
    out = list(x)
    seen: set[int] = set()
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        a = norm_axis(node, axis, len(x))
        if a in seen or step == 0:
            raise shape_error(node, f"axis {a} is sliced twice or with step 0")
        seen.add(a)
        dim = x[a]
        start = start + dim if start < 0 else start
        end = end + dim if end < 0 else end
        if step > 0:
            start, end = min(max(start, 0), dim), min(max(end, 0), dim)
            length = max(0, -(-(end - start) // step))
        else:
            start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
            length = max(0, -(-(start - end) // -step))
        index[a] = slice(start, end if end >= 0 else None, step)
        out[a] = length
    return tuple(index), tuple(out)


def _infer_slice(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    return [t.with_shape(slice_plan(node, shape_of(t))[1])]


@define_op("Slice", _infer_slice)
def slice_(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x[starts:ends:steps] on ``axes``; out-of-range bounds clamp as in ONNX."""
    x = arg(inputs, 0)
    index, _ = slice_plan(node, x.shape)
    return [np.array(x[index], copy=True)]


def _repeats(node: Node, rank: int) -> tuple[int, ...]:
    reps = ints_attr(node, "repeats")
    if len(reps) != rank or any(r < 0 for r in reps):
        raise shape_error(node, f"repeats {list(reps)} need {rank} non-negative values")
    return reps


def _infer_tile(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    reps = _repeats(node, len(x))
    return [t.with_shape(tuple(d * r for d, r in zip(x, reps, strict=True)))]


@define_op("Tile", _infer_tile)
def tile(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x repeated ``repeats[i]`` times along each axis i."""
    x = arg(inputs, 0)
    return [np.tile(x, _repeats(node, x.ndim))]


def _infer_expand(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    return [t.with_shape(broadcast_shapes(node, [shape_of(t), ints_attr(node, "shape")]))]


@define_op("Expand", _infer_expand)
def expand(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x broadcast against ``shape`` (bidirectionally: the result may be larger than
    ``shape`` where x is)."""
    x = arg(inputs, 0)
    out = broadcast_shapes(node, [x.shape, ints_attr(node, "shape")])
    return [np.array(np.broadcast_to(x, out), copy=True)]


_PAD_MODES = {"constant": "constant", "reflect": "reflect", "edge": "edge", "wrap": "wrap"}


def _pads(node: Node, rank: int) -> list[tuple[int, int]]:
    pads = ints_attr(node, "pads")
    if len(pads) != 2 * rank or any(p < 0 for p in pads):
        raise shape_error(node, f"pads {list(pads)} need {2 * rank} non-negative values")
    return [(pads[i], pads[i + rank]) for i in range(rank)]


def _infer_pad(node: Node) -> list[TensorType]:
    t = input_type(node, 0)
    x = shape_of(t)
    mode = choice_attr(node, "mode", "constant", tuple(_PAD_MODES))
    pads = _pads(node, len(x))
    if mode != "constant" and any(d == 0 and (b or e) for d, (b, e) in zip(x, pads, strict=True)):
        raise shape_error(node, f"mode {mode} cannot pad an empty axis of {fmt(x)}")
    return [t.with_shape(tuple(d + b + e for d, (b, e) in zip(x, pads, strict=True)))]


@define_op("Pad", _infer_pad)
def pad(node: Node, inputs: Sequence[Array | None]) -> list[AnyArray]:
    """x padded by ``pads`` (begin..., end...): constant ``value``, reflect (mirror
    without repeating the edge), edge (repeat it) or wrap (periodic)."""
    x = arg(inputs, 0)
    mode = choice_attr(node, "mode", "constant", tuple(_PAD_MODES))
    pads = _pads(node, x.ndim)
    if mode == "constant":
        value = x.dtype.type(float_attr(node, "value", 0.0))
        return [np.pad(x, pads, mode="constant", constant_values=value)]
    return [np.pad(x, pads, mode=_PAD_MODES[mode])]  # type: ignore[call-overload]
