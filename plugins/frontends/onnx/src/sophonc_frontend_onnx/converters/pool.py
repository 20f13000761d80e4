"""Pooling ONNX ops: MaxPool, AveragePool, LpPool and the global pools.

auto_pad is resolved into explicit pads. MaxPool's optional Indices output is not
computed (core MaxPool has one output): reading it fails with a clear message.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.errors import ModelLoadError
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import spatial_attrs
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


def _kernel(node: OnnxNode) -> tuple[int, ...]:
    kernel = node.ints("kernel_shape")
    if kernel is None:
        raise ModelLoadError(
            f"{node.op_type} node '{node.name}' has no kernel_shape; the model is malformed"
        )
    return kernel


@converter("MaxPool", since=1)
def convert_maxpool_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """MaxPool (dilations and ceil_mode exist from opset 10; defaults cover older)."""
    x = ctx.value(node, 0)
    kernel = _kernel(node)
    if node.int("storage_order", 0) != 0 and node.output_used(1):
        raise ModelLoadError(
            f"MaxPool node '{node.name}': column-major indices (storage_order=1) are not supported"
        )
    attrs: dict[str, object] = {"kernel_shape": kernel, "ceil_mode": node.int("ceil_mode", 0)}
    attrs.update(spatial_attrs(node, x.shape, kernel))
    return [ctx.emit1("MaxPool", [x], attrs, node=node)]


@converter("AveragePool", since=1)
def convert_averagepool_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """AveragePool; dilations (opset 19) other than 1 are rejected (core has none)."""
    x = ctx.value(node, 0)
    kernel = _kernel(node)
    spatial = spatial_attrs(node, x.shape, kernel)
    if any(d != 1 for d in spatial.pop("dilations")):
        raise ModelLoadError(
            f"AveragePool node '{node.name}': dilations other than 1 are not supported"
        )
    attrs: dict[str, object] = {
        "kernel_shape": kernel,
        "ceil_mode": node.int("ceil_mode", 0),
        "count_include_pad": node.int("count_include_pad", 0),
        **spatial,
    }
    return ctx.emit("AveragePool", [x], attrs, node=node)


@converter("LpPool", since=2)
def convert_lppool_v2(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """LpPool; dilations/ceil_mode (opset 18) other than defaults are rejected."""
    x = ctx.value(node, 0)
    kernel = _kernel(node)
    spatial = spatial_attrs(node, x.shape, kernel)
    if any(d != 1 for d in spatial.pop("dilations")) or node.int("ceil_mode", 0):
        raise ModelLoadError(
            f"LpPool node '{node.name}': dilations and ceil_mode are not supported"
        )
    attrs: dict[str, object] = {"kernel_shape": kernel, "p": node.int("p", 2), **spatial}
    return ctx.emit("LpPool", [x], attrs, node=node)


@converter("GlobalAveragePool", since=1)
def convert_globalaveragepool_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """GlobalAveragePool maps one to one."""
    return ctx.emit("GlobalAveragePool", [ctx.value(node, 0)], {}, node=node)


@converter("GlobalMaxPool", since=1)
def convert_globalmaxpool_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """GlobalMaxPool maps one to one."""
    return ctx.emit("GlobalMaxPool", [ctx.value(node, 0)], {}, node=node)
