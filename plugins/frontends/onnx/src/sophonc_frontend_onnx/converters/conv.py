"""Conv and ConvTranspose: attributes made explicit for the core ops.

``kernel_shape`` is taken from the weight when absent, ``auto_pad`` becomes explicit
``pads``, and ConvTranspose's ``output_shape`` becomes pads plus ``output_padding``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.errors import ModelLoadError
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.converters.common import spatial_attrs
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


@converter("Conv", since=1)
def convert_conv_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Conv (1-D, 2-D, 3-D) with explicit pads."""
    x = ctx.value(node, 0)
    w = ctx.value(node, 1)
    b = ctx.opt_value(node, 2)
    kernel = node.ints("kernel_shape", tuple(w.shape[2:]))
    assert kernel is not None
    attrs: dict[str, object] = {"kernel_shape": kernel, "group": node.int("group", 1)}
    attrs.update(spatial_attrs(node, x.shape, kernel))
    return ctx.emit("Conv", [x, w, b], attrs, node=node)


def _transpose_pads(
    node: OnnxNode,
    in_spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
    out_pad: Sequence[int],
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Explicit (pads, output_padding) of a ConvTranspose.

    The natural output size is ``s*(i-1) + op + (k-1)*d + 1 - pad_begin - pad_end``.
    With ``output_shape`` (or SAME_* auto_pad, whose target is ``i*s``) the total
    padding is whatever reaches the target; the odd unit goes to the end for
    SAME_UPPER and to the beginning otherwise, which is how onnxruntime splits it. A
    target bigger than the natural size is reached through ``output_padding``.
    """
    n = len(in_spatial)
    auto_pad = node.str("auto_pad", "NOTSET")
    out_shape = node.ints("output_shape")
    if out_shape is not None and len(out_shape) > n:
        out_shape = out_shape[-n:]
    if out_shape is None and auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        out_shape = tuple(i * s for i, s in zip(in_spatial, strides, strict=True))
    if out_shape is None:
        if auto_pad == "VALID":
            return (0,) * (2 * n), tuple(out_pad)
        pads = node.ints("pads", (0,) * (2 * n))
        assert pads is not None
        return pads, tuple(out_pad)
    begin: list[int] = []
    end: list[int] = []
    extra: list[int] = []
    for i, k, s, d, op, target in zip(
        in_spatial, kernel, strides, dilations, out_pad, out_shape, strict=True
    ):
        full = s * (i - 1) + op + (k - 1) * d + 1
        total = full - target
        if total >= 0:
            small, big = total // 2, total - total // 2
            # onnxruntime puts the odd unit at the end only for SAME_UPPER.
            begin.append(small if auto_pad == "SAME_UPPER" else big)
            end.append(big if auto_pad == "SAME_UPPER" else small)
            extra.append(op)
        else:
            begin.append(0)
            end.append(0)
            extra.append(op - total)
    return (*begin, *end), tuple(extra)


@converter("ConvTranspose", since=1)
def convert_convtranspose_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """ConvTranspose with explicit pads and output_padding (output_shape resolved)."""
    x = ctx.value(node, 0)
    w = ctx.value(node, 1)
    b = ctx.opt_value(node, 2)
    kernel = node.ints("kernel_shape", tuple(w.shape[2:]))
    assert kernel is not None
    n = len(kernel)
    strides = node.ints("strides", (1,) * n)
    dilations = node.ints("dilations", (1,) * n)
    out_pad = node.ints("output_padding", (0,) * n)
    assert strides is not None and dilations is not None and out_pad is not None
    if len(x.shape) != n + 2:
        raise ModelLoadError(
            f"ConvTranspose node '{node.name}': input rank {len(x.shape)} does not fit a "
            f"{n}-D kernel; the model is malformed"
        )
    pads, output_padding = _transpose_pads(node, x.shape[2:], kernel, strides, dilations, out_pad)
    attrs = {
        "kernel_shape": kernel,
        "strides": strides,
        "dilations": dilations,
        "pads": pads,
        "output_padding": output_padding,
        "group": node.int("group", 1),
    }
    return ctx.emit("ConvTranspose", [x, w, b], attrs, node=node)
