"""Resize (opsets 10, 11, 13, 18, 19) and the deprecated Upsample (7, 9).

The core Resize takes the full output shape as ``sizes``. When ONNX gave scales,
``sizes = floor(in * scale)`` (float32 arithmetic, as onnxruntime computes it) and
the scales are kept too, because the coordinate transform divides by the scale,
not by ``out / in``. Opset 10 and Upsample predate the coordinate-mode attributes:
their meaning is the ``asymmetric`` transform, and nearest picks ``floor`` when
enlarging and ``ceil`` when shrinking.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from sophonc.errors import ModelLoadError
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import norm_axes
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter

_MODES = {"nearest": "nearest", "linear": "linear", "bilinear": "linear", "trilinear": "linear"}


def _mode(node: OnnxNode) -> str:
    mode = node.str("mode", "nearest").lower()
    if mode not in _MODES and mode != "cubic":
        raise ModelLoadError(f"{node.op_type} node '{node.name}': unknown mode '{mode}'")
    return _MODES.get(mode, mode)


def _sizes_from_scales(
    node: OnnxNode, in_shape: Sequence[int], scales: Sequence[float]
) -> tuple[int, ...]:
    if len(scales) != len(in_shape):
        raise ModelLoadError(
            f"{node.op_type} node '{node.name}': {len(scales)} scales for a rank-"
            f"{len(in_shape)} input; the model is malformed"
        )
    out = tuple(
        math.floor(float(np.float32(s) * np.float32(d)))
        for s, d in zip(scales, in_shape, strict=True)
    )
    if any(d <= 0 for d in out):
        raise ModelLoadError(
            f"{node.op_type} node '{node.name}': scales {list(scales)} give an empty "
            f"output from {list(in_shape)}"
        )
    return out


def _emit(
    ctx: ConversionContext,
    node: OnnxNode,
    x: Value,
    scales: Sequence[float] | None,
    sizes: Sequence[int],
    attrs: dict[str, object],
) -> Sequence[Value | None]:
    attrs = dict(attrs)
    attrs["sizes"] = tuple(int(s) for s in sizes)
    if scales is not None:
        attrs["scales"] = tuple(float(s) for s in scales)
    return ctx.emit("Resize", [x], attrs, node=node)


def _legacy(
    ctx: ConversionContext, node: OnnxNode, scales: Sequence[float] | None
) -> Sequence[Value | None]:
    """Opset-10 Resize and Upsample: asymmetric transform, floor/ceil nearest."""
    x = ctx.value(node, 0)
    if scales is None:
        raise ModelLoadError(f"{node.op_type} node '{node.name}' has no scales")
    mode = _mode(node)
    up = all(s >= 1 for s in scales)
    down = all(s <= 1 for s in scales)
    if mode == "nearest" and not (up or down):
        raise ModelLoadError(
            f"{node.op_type} node '{node.name}': nearest mode that enlarges some axes and "
            f"shrinks others ({list(scales)}) is not supported before opset 11"
        )
    attrs: dict[str, object] = {
        "mode": mode,
        "coordinate_transformation_mode": "asymmetric",
        "nearest_mode": "floor" if up else "ceil",
        "cubic_coeff_a": -0.75,
        "exclude_outside": 0,
        "extrapolation_value": 0.0,
    }
    sizes = _sizes_from_scales(node, x.shape, scales)
    return _emit(ctx, node, x, scales, sizes, attrs)


def _const_floats(ctx: ConversionContext, node: OnnxNode, i: int, what: str) -> list[float] | None:
    data = ctx.const(node, i, what)
    if data is None or data.size == 0:
        return None
    return [float(v) for v in np.asarray(data).reshape(-1)]


@converter("Upsample", since=7)
def convert_upsample_v7(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Upsample, opset 7-8: scales attribute."""
    return _legacy(ctx, node, node.floats("scales"))


@converter("Upsample", since=9)
def convert_upsample_v9(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Upsample, opset 9: constant scales input."""
    return _legacy(ctx, node, _const_floats(ctx, node, 1, "the scales"))


@converter("Resize", since=10)
def convert_resize_v10(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Resize, opset 10: constant scales input, asymmetric transform."""
    return _legacy(ctx, node, _const_floats(ctx, node, 1, "the scales"))


def _keep_aspect(
    node: OnnxNode, in_shape: Sequence[int], sizes: list[int], axes: Sequence[int]
) -> tuple[list[int], list[float]]:
    """keep_aspect_ratio_policy not_larger/not_smaller: one scale for every axis."""
    policy = node.str("keep_aspect_ratio_policy", "stretch")
    ratios = [sizes[a] / in_shape[a] for a in axes]
    scale = min(ratios) if policy == "not_larger" else max(ratios)
    scales = [1.0] * len(in_shape)
    for a in axes:
        scales[a] = scale
    out = list(in_shape)
    for a in axes:
        out[a] = math.floor(scale * in_shape[a] + 0.5)
    return out, scales


@converter("Resize", since=11)
def convert_resize_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Resize, opset 11+: constant scales or sizes; roi is ignored (except for
    tf_crop_and_resize, which is rejected); axes, keep_aspect_ratio_policy (18)."""
    x = ctx.value(node, 0)
    rank = len(x.shape)
    ctm = node.str("coordinate_transformation_mode", "half_pixel")
    if ctm == "tf_crop_and_resize":
        raise ModelLoadError(
            f"Resize node '{node.name}': coordinate_transformation_mode tf_crop_and_resize "
            f"is not supported; crop with Slice and resize without it"
        )
    mode = _mode(node)
    attrs: dict[str, object] = {
        "mode": mode,
        "coordinate_transformation_mode": ctm,
        "nearest_mode": node.str("nearest_mode", "round_prefer_floor"),
        "cubic_coeff_a": node.float("cubic_coeff_a", -0.75),
        "exclude_outside": node.int("exclude_outside", 0),
        "extrapolation_value": node.float("extrapolation_value", 0.0),
    }
    axes = norm_axes(node, node.ints("axes", tuple(range(rank))) or (), rank)
    scales_in = _const_floats(ctx, node, 2, "the scales")
    size_data = ctx.const(node, 3, "the output sizes")
    sizes_in = (
        None
        if size_data is None or size_data.size == 0
        else [int(v) for v in size_data.reshape(-1)]
    )
    if (scales_in is None) == (sizes_in is None):
        raise ModelLoadError(
            f"Resize node '{node.name}': exactly one of scales and sizes must be given; "
            f"the model is malformed"
        )
    scales: list[float] | None = None
    if scales_in is not None:
        scales = [1.0] * rank
        for a, s in zip(axes, scales_in, strict=True):
            scales[a] = s
        sizes = list(_sizes_from_scales(node, x.shape, scales))
    else:
        assert sizes_in is not None
        sizes = list(x.shape)
        for a, s in zip(axes, sizes_in, strict=True):
            sizes[a] = s
        if node.str("keep_aspect_ratio_policy", "stretch") != "stretch":
            sizes, scales = _keep_aspect(node, x.shape, sizes, axes)
    eff = scales or [o / i for o, i in zip(sizes, x.shape, strict=True)]
    if node.int("antialias", 0) and mode != "nearest" and any(s < 1 for s in eff):
        raise ModelLoadError(f"Resize node '{node.name}': antialiased downscaling is not supported")
    return _emit(ctx, node, x, scales, sizes, attrs)
