"""Normalisation ONNX ops: BatchNormalization, InstanceNormalization,
LayerNormalization, GroupNormalization and LRN, in their inference forms.

Training-only outputs (BatchNormalization's running statistics, LayerNormalization's
Mean/InvStdDev) are not computed; reading one fails with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.errors import ModelLoadError
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import norm_axis
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


@converter("BatchNormalization", since=7)
def convert_batchnormalization_v7(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """BatchNormalization, inference form (opset 7 to newest)."""
    if node.int("training_mode", 0):
        raise ModelLoadError(
            f"BatchNormalization node '{node.name}' is in training mode; export the model "
            f"in eval mode"
        )
    x = ctx.value(node, 0)
    params = [ctx.value(node, i) for i in range(1, 5)]
    if node.int("spatial", 1) == 0 and any(len(p.shape) != 1 for p in params):
        raise ModelLoadError(
            f"BatchNormalization node '{node.name}': per-activation statistics "
            f"(spatial=0) are not supported"
        )
    out = ctx.emit1(
        "BatchNormalization", [x, *params], {"epsilon": node.float("epsilon", 1e-5)}, node=node
    )
    return [out]


@converter("InstanceNormalization", since=6)
def convert_instancenormalization_v6(
    ctx: ConversionContext, node: OnnxNode
) -> Sequence[Value | None]:
    """InstanceNormalization(epsilon=1e-5)."""
    inputs = [ctx.value(node, i) for i in range(3)]
    return ctx.emit(
        "InstanceNormalization", inputs, {"epsilon": node.float("epsilon", 1e-5)}, node=node
    )


@converter("LayerNormalization", since=17)
def convert_layernormalization_v17(
    ctx: ConversionContext, node: OnnxNode
) -> Sequence[Value | None]:
    """LayerNormalization over axis…rank-1; only the normalised output."""
    x = ctx.value(node, 0)
    attrs = {
        "axis": norm_axis(node, node.int("axis", -1), len(x.shape)),
        "epsilon": node.float("epsilon", 1e-5),
    }
    inputs = [x, ctx.value(node, 1), ctx.opt_value(node, 2)]
    return [ctx.emit1("LayerNormalization", inputs, attrs, node=node)]


def _per_channel(
    ctx: ConversionContext, node: OnnxNode, v: Value, groups: int, channels: int, what: str
) -> Value:
    """A per-group (G,) parameter repeated to per-channel (C,), each group C/G times."""
    if v.shape == (channels,):
        return v
    per = channels // groups
    col = ctx.reshape(v, (groups, 1), node=node, suffix=f"{what}_groups")
    tiled = ctx.emit1("Expand", [col], {"shape": (groups, per)}, node=node, suffix=f"{what}_x")
    return ctx.reshape(tiled, (channels,), node=node, suffix=f"{what}_channels")


@converter("GroupNormalization", since=18)
def convert_groupnormalization_v18(
    ctx: ConversionContext, node: OnnxNode
) -> Sequence[Value | None]:
    """GroupNormalization; the opset-18 per-group scale/bias become per-channel."""
    x = ctx.value(node, 0)
    groups = node.int("num_groups", 0)
    channels = x.shape[1]
    if groups <= 0 or channels % groups:
        raise ModelLoadError(
            f"GroupNormalization node '{node.name}': num_groups {groups} does not divide "
            f"the {channels} channels; the model is malformed"
        )
    scale = _per_channel(ctx, node, ctx.value(node, 1), groups, channels, "scale")
    bias = _per_channel(ctx, node, ctx.value(node, 2), groups, channels, "bias")
    attrs = {"num_groups": groups, "epsilon": node.float("epsilon", 1e-5)}
    return ctx.emit("GroupNormalization", [x, scale, bias], attrs, node=node)


@converter("GroupNormalization", since=21)
def convert_groupnormalization_v21(
    ctx: ConversionContext, node: OnnxNode
) -> Sequence[Value | None]:
    """GroupNormalization, opset 21: scale and bias are already per channel."""
    inputs = [ctx.value(node, i) for i in range(3)]
    attrs = {"num_groups": node.int("num_groups", 0), "epsilon": node.float("epsilon", 1e-5)}
    return ctx.emit("GroupNormalization", inputs, attrs, node=node)


@converter("LRN", since=1)
def convert_lrn_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """LRN(size, alpha=1e-4, beta=0.75, bias=1)."""
    attrs = {
        "size": node.int("size", 1),
        "alpha": node.float("alpha", 1e-4),
        "beta": node.float("beta", 0.75),
        "bias": node.float("bias", 1.0),
    }
    return ctx.emit("LRN", [ctx.value(node, 0)], attrs, node=node)
