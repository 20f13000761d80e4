"""Conv and ConvTranspose in INT8: per-channel weights, int32 bias, 32-bit requant.

Facts §3.3: ``scale_w[c] = max|W[c]| / 127`` (``/255`` for all-positive weights
without bias), ``Wq = round(W/scale_w)``, ``bias_q = round(b/(scale_w·in_scale))``,
``multiplier, shift = scale_and_shift(scale_w·in_scale/out_scale)``. The kernel
works on ``x - zp_in``, so an asymmetric input needs no zero-point term in the
bias. A filter that is not a weight, or a value without calibration, declines.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from sophonc.ir.node import Node
from sophonc.quant import quantize_bias, quantize_weight_per_channel
from sophonc.quant.exact import GEOMETRY_ATTRS
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import (
    output_form,
    per_channel_requant,
    relu_attrs,
    scale_of,
)
from sophonc_backend_bm1684x.lowering.rules import int8_rule


def _output_channel_layout(w: npt.NDArray[np.float64], group: int) -> npt.NDArray[np.float64]:
    """A ConvTranspose weight ``(C_in, C_out/g, k…)`` as ``(C_out, C_in/g, k…)``."""
    cin, cout_g = w.shape[:2]
    k = w.shape[2:]
    return (
        w.reshape(group, cin // group, cout_g, *k)
        .swapaxes(1, 2)
        .reshape(group * cout_g, cin // group, *k)
    )


def _back_to_transpose_layout(
    wq: npt.NDArray[np.generic], group: int, cin: int
) -> npt.NDArray[np.generic]:
    cout = wq.shape[0]
    k = wq.shape[2:]
    return (
        wq.reshape(group, cout // group, cin // group, *k)
        .swapaxes(1, 2)
        .reshape(cin, cout // group, *k)
    )


@int8_rule("Conv", "ConvTranspose")
def lower_conv(ctx: LoweringContext, node: Node) -> bool:
    """Per-channel INT8 convolution (see the module docstring)."""
    x_top, w_top, b_top = node.input(0), node.input(1), node.opt_input(2)
    out = node.output
    if w_top.const is None or out.quant is None:
        return False
    if b_top is not None and b_top.const is None:
        return False
    x = ctx.as_int8(x_top)
    if x is None:
        return False
    w = np.asarray(w_top.const, dtype=np.float64)
    group = node.int("group", 1)
    transposed = node.op_type == "ConvTranspose"
    layout = _output_channel_layout(w, group) if transposed else w
    qw = quantize_weight_per_channel(layout, axis=0, has_bias=b_top is not None)
    values = _back_to_transpose_layout(qw.values, group, w.shape[0]) if transposed else qw.values
    in_scale = scale_of(x)
    name = out.name
    weight = ctx.weight(f"{name}_filter", values)
    bias = None
    if b_top is not None and b_top.const is not None:
        bias = ctx.weight(f"{name}_bias", quantize_bias(b_top.const, qw.scales, in_scale))
    m, s = per_channel_requant(qw.scales * in_scale / out.quant.scale[0])
    attrs: dict[str, object] = {k: v for k, v in node.attrs.items() if k in GEOMETRY_ATTRS}
    attrs.update(relu_attrs(node, out.quant))
    (y,) = ctx.emit(
        node.op_type,
        [x, weight, bias, ctx.weight(f"{name}_multiplier", m), ctx.weight(f"{name}_shift", s)],
        attrs,
        [output_form(out)],
    )
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True
