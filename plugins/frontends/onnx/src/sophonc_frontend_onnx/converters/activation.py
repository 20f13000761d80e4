"""Activation ONNX ops with parameters: LeakyRelu, PRelu, Elu, Selu, Celu, HardSigmoid,
HardSwish, Gelu, ThresholdedRelu and Clip (attribute form before opset 11, inputs after).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.types import numpy_dtype
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter

_F32_MAX = float(np.finfo(np.float32).max)


@converter("LeakyRelu", since=1)
def convert_leakyrelu_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """LeakyRelu(alpha=0.01)."""
    return ctx.emit(
        "LeakyRelu", [ctx.value(node, 0)], {"alpha": node.float("alpha", 0.01)}, node=node
    )


@converter("PRelu", since=7)
def convert_prelu_v7(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """PRelu with the slope brought to the rank of x.

    ONNX broadcasts the slope unidirectionally (numpy rules, right-aligned). A
    constant slope is reshaped to x's rank so backends see per-channel data
    explicitly; a 1-D slope of C values that does not broadcast right-aligned (old
    exporters meant it per channel) is placed on axis 1.
    """
    x = ctx.value(node, 0)
    slope = ctx.value(node, 1)
    rank = len(x.shape)
    s_shape = slope.shape
    if len(s_shape) < rank:
        full = (1,) * (rank - len(s_shape)) + tuple(s_shape)
        fits = all(s in (1, d) for s, d in zip(full, x.shape, strict=True))
        if not fits and len(s_shape) == 1 and rank >= 2 and s_shape[0] == x.shape[1]:
            full = (1, s_shape[0]) + (1,) * (rank - 2)
        slope = ctx.reshape(slope, full, node=node, suffix="slope")
    return ctx.emit("PRelu", [x, slope], {}, node=node)


@converter("Elu", since=6)
def convert_elu_v6(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Elu(alpha=1)."""
    return ctx.emit("Elu", [ctx.value(node, 0)], {"alpha": node.float("alpha", 1.0)}, node=node)


@converter("Selu", since=6)
def convert_selu_v6(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Selu with ONNX's default alpha and gamma written out."""
    attrs = {
        "alpha": node.float("alpha", 1.67326319217681884765625),
        "gamma": node.float("gamma", 1.05070102214813232421875),
    }
    return ctx.emit("Selu", [ctx.value(node, 0)], attrs, node=node)


@converter("Celu", since=12)
def convert_celu_v12(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Celu(x; a) = a * Elu(x / a; 1)."""
    x = ctx.value(node, 0)
    alpha = node.float("alpha", 1.0)
    inv = ctx.weight(ctx.helper_name(node, "inv_alpha"), np.float32(1.0 / alpha))
    a = ctx.weight(ctx.helper_name(node, "alpha"), np.float32(alpha))
    scaled = ctx.emit1("Mul", [x, inv], {}, node=node, suffix="scaled")
    elu = ctx.emit1("Elu", [scaled], {"alpha": 1.0}, node=node, suffix="elu")
    return ctx.emit("Mul", [elu, a], {}, node=node)


@converter("ThresholdedRelu", since=10)
def convert_thresholdedrelu_v10(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """ThresholdedRelu(x) = x where x > alpha else 0."""
    x = ctx.value(node, 0)
    dt = numpy_dtype(x.dtype)
    alpha = ctx.weight(ctx.helper_name(node, "alpha"), np.asarray(node.float("alpha", 1.0), dt))
    zero = ctx.weight(ctx.helper_name(node, "zero"), np.zeros((), dt))
    mask = ctx.emit1("Greater", [x, alpha], {}, node=node, suffix="mask")
    return ctx.emit("Where", [mask, x, zero], {}, node=node)


@converter("HardSigmoid", since=6)
def convert_hardsigmoid_v6(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """HardSigmoid(alpha=0.2, beta=0.5)."""
    attrs = {"alpha": node.float("alpha", 0.2), "beta": node.float("beta", 0.5)}
    return ctx.emit("HardSigmoid", [ctx.value(node, 0)], attrs, node=node)


@converter("HardSwish", since=14)
def convert_hardswish_v14(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """HardSwish maps one to one."""
    return ctx.emit("HardSwish", [ctx.value(node, 0)], {}, node=node)


@converter("Gelu", since=20)
def convert_gelu_v20(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Gelu (opset 20); the exporter pattern with Erf stays as separate ops."""
    attrs = {"approximate": node.str("approximate", "none")}
    return ctx.emit("Gelu", [ctx.value(node, 0)], attrs, node=node)


@converter("Clip", since=6)
def convert_clip_v6(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Clip, opset 6-10: bounds are attributes defaulting to the float32 range."""
    attrs = {"min": node.float("min", -_F32_MAX), "max": node.float("max", _F32_MAX)}
    return ctx.emit("Clip", [ctx.value(node, 0)], attrs, node=node)


@converter("Clip", since=11)
def convert_clip_v11(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Clip, opset 11+: optional constant ``min``/``max`` inputs become attributes."""
    lo = ctx.const(node, 1, "the lower bound")
    hi = ctx.const(node, 2, "the upper bound")
    attrs = {
        "min": float(np.asarray(lo).reshape(-1)[0]) if lo is not None else float("-inf"),
        "max": float(np.asarray(hi).reshape(-1)[0]) if hi is not None else float("inf"),
    }
    return ctx.emit("Clip", [ctx.value(node, 0)], attrs, node=node)
