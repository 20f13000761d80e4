"""Data movement: Concat, Split, Slice, Pad, DepthToSpace, SpaceToDepth, Trilu.

Each op's older attribute form and newer input form end in the same core op with
static attributes: Split sizes, Slice starts/ends/axes/steps and Pad pads are read
as constants and axes are made non-negative.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.errors import ModelLoadError
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import int_list, norm_axes, norm_axis
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


@converter("Concat", since=4)
def convert_concat_v4(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Concat along a non-negative axis."""
    inputs = [ctx.value(node, i) for i in range(len(node.inputs)) if node.input_given(i)]
    axis = norm_axis(node, node.int("axis", 0), len(inputs[0].shape))
    return ctx.emit("Concat", inputs, {"axis": axis}, node=node)


def _split(
    ctx: ConversionContext, node: OnnxNode, sizes: Sequence[int] | None, ceil_chunks: bool
) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    axis = norm_axis(node, node.int("axis", 0), len(x.shape))
    dim = x.shape[axis]
    n = node.int("num_outputs", len(node.outputs))
    if sizes is None:
        if ceil_chunks:
            chunk = -(-dim // n)
            sizes = [chunk] * (n - 1) + [dim - chunk * (n - 1)]
        else:
            if dim % n:
                raise ModelLoadError(
                    f"Split node '{node.name}': dim {dim} does not split evenly into {n} "
                    f"outputs; the model is malformed"
                )
            sizes = [dim // n] * n
    if sum(sizes) != dim or len(sizes) != len(node.outputs):
        raise ModelLoadError(
            f"Split node '{node.name}': sizes {list(sizes)} do not split dim {dim} into "
            f"{len(node.outputs)} outputs; the model is malformed"
        )
    attrs = {"axis": axis, "split": tuple(int(s) for s in sizes)}
    return ctx.emit("Split", [x], attrs, node=node, n_outputs=len(sizes))


@converter("Split", since=2)
def convert_split_v2(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Split, opsets 2-12: optional ``split`` attribute, else equal parts."""
    return _split(ctx, node, node.ints("split"), ceil_chunks=False)


@converter("Split", since=13)
def convert_split_v13(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Split, opset 13: optional constant ``split`` input."""
    return _split(ctx, node, int_list(ctx.const(node, 1, "the split sizes")), ceil_chunks=False)


@converter("Split", since=18)
def convert_split_v18(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Split, opset 18+: ``split`` input or ``num_outputs`` (last chunk may be smaller)."""
    return _split(ctx, node, int_list(ctx.const(node, 1, "the split sizes")), ceil_chunks=True)


def _slice(
    ctx: ConversionContext,
    node: OnnxNode,
    starts: Sequence[int] | None,
    ends: Sequence[int] | None,
    axes: Sequence[int] | None,
    steps: Sequence[int] | None,
) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    if starts is None or ends is None or len(starts) != len(ends):
        raise ModelLoadError(
            f"Slice node '{node.name}': starts and ends must be given with equal lengths; "
            f"the model is malformed"
        )
    if axes is None:
        axes = tuple(range(len(starts)))
    if steps is None:
        steps = (1,) * len(starts)
    if any(s == 0 for s in steps):
        raise ModelLoadError(f"Slice node '{node.name}': a step of 0 is invalid")
    attrs = {
        "starts": tuple(starts),
        "ends": tuple(ends),
        "axes": norm_axes(node, axes, len(x.shape)),
        "steps": tuple(steps),
    }
    return ctx.emit("Slice", [x], attrs, node=node)


@converter("Slice", since=1)
def convert_slice_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Slice, opsets 1-9: starts/ends/axes attributes, step 1."""
    return _slice(ctx, node, node.ints("starts"), node.ints("ends"), node.ints("axes"), None)


@converter("Slice", since=10)
def convert_slice_v10(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Slice, opset 10+: constant starts/ends/axes/steps inputs."""
    return _slice(
        ctx,
        node,
        int_list(ctx.const(node, 1, "the starts")),
        int_list(ctx.const(node, 2, "the ends")),
        int_list(ctx.const(node, 3, "the axes")),
        int_list(ctx.const(node, 4, "the steps")),
    )


def _pad(
    ctx: ConversionContext,
    node: OnnxNode,
    pads: Sequence[int] | None,
    value: float,
    axes: Sequence[int] | None,
) -> Sequence[Value | None]:
    x = ctx.value(node, 0)
    rank = len(x.shape)
    mode = node.str("mode", "constant")
    if pads is None:
        raise ModelLoadError(f"Pad node '{node.name}' has no pads; the model is malformed")
    if axes is not None:
        axes = norm_axes(node, axes, rank)
        full = [0] * (2 * rank)
        for i, a in enumerate(axes):
            full[a] = pads[i]
            full[a + rank] = pads[i + len(axes)]
        pads = full
    if len(pads) != 2 * rank:
        raise ModelLoadError(
            f"Pad node '{node.name}': {len(pads)} pads for a rank-{rank} input; the model "
            f"is malformed"
        )
    grow = tuple(max(p, 0) for p in pads)
    crop = [max(-p, 0) for p in pads]
    if not any(crop):
        attrs = {"pads": grow, "mode": mode, "value": value}
        return ctx.emit("Pad", [x], attrs, node=node)
    # Negative pads crop: pad the positive part, then slice the rest away.
    if any(grow):
        attrs = {"pads": grow, "mode": mode, "value": value}
        x = ctx.emit1("Pad", [x], attrs, node=node, suffix="grow")
    shape = x.shape
    attrs_s = {
        "starts": tuple(crop[:rank]),
        "ends": tuple(shape[i] - crop[rank + i] for i in range(rank)),
        "axes": tuple(range(rank)),
        "steps": (1,) * rank,
    }
    return ctx.emit("Slice", [x], attrs_s, node=node)


@converter("Pad", since=2)
def convert_pad_v2(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Pad, opsets 2-10: pads and value attributes."""
    return _pad(ctx, node, node.ints("pads"), node.float("value", 0.0), None)


@converter("Pad", since=11)
def convert_pad_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Pad, opset 11+: constant pads, constant_value and (opset 18) axes inputs."""
    cv = ctx.const(node, 2, "the constant value")
    value = float(np.asarray(cv).reshape(-1)[0]) if cv is not None and cv.size else 0.0
    return _pad(
        ctx,
        node,
        int_list(ctx.const(node, 1, "the pads")),
        value,
        int_list(ctx.const(node, 3, "the axes")),
    )


@converter("DepthToSpace", since=1)
def convert_depthtospace_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """DepthToSpace (mode DCR before opset 11 and by default)."""
    attrs = {"blocksize": node.int("blocksize", 1), "mode": node.str("mode", "DCR")}
    return ctx.emit("DepthToSpace", [ctx.value(node, 0)], attrs, node=node)


@converter("SpaceToDepth", since=1)
def convert_spacetodepth_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """SpaceToDepth maps one to one."""
    attrs = {"blocksize": node.int("blocksize", 1)}
    return ctx.emit("SpaceToDepth", [ctx.value(node, 0)], attrs, node=node)


@converter("Trilu", since=14)
def convert_trilu_v14(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Trilu with the diagonal offset k read as a constant (default 0)."""
    k = int_list(ctx.const(node, 1, "the diagonal offset k"))
    attrs = {"upper": node.int("upper", 1), "k": k[0] if k else 0}
    return ctx.emit("Trilu", [ctx.value(node, 0)], attrs, node=node)
