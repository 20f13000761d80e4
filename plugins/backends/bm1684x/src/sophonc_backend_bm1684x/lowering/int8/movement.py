"""Ops that only move int8 codes: they run on the stored bytes unchanged.

The output keeps its input's quantized form (the bytes are the same), so no
requant is needed: TPU-MLIR likewise gives these ops their input's threshold.
For MaxPool, GlobalMaxPool and DepthToSpace the quantizer has already given a
single-use input the op's own range (sophonc.quantize.backward), so there the
two agree.
Concat first brings every input to its output's calibrated form, then moves.
Pad fills with the code of its fill value; Resize moves only in nearest mode.
A fused ReLU (MaxPool's) becomes a clamp of the codes at the zero point and at
the limit's code (``relu_upper``), never the real-valued ``relu_limit``.
"""

from __future__ import annotations

from collections.abc import Mapping

from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import output_form, relu_attrs
from sophonc_backend_bm1684x.lowering.rules import int8_rule
from sophonc_backend_bm1684x.program.kernels.float_op import TOP_OP
from sophonc_backend_bm1684x.program.storage import quantize

#: Ops whose first input is the moved data and whose other inputs are constants.
PURE_MOVES = (
    "DepthToSpace", "Expand", "Gather", "GlobalMaxPool", "Identity", "MaxPool",
    "ReduceMax", "ReduceMin", "Reshape", "Slice", "SpaceToDepth", "Split", "Tile",
    "Transpose",
)  # fmt: skip


def _emit_move(
    ctx: LoweringContext, node: Node, data: list[Value | None], attrs: Mapping[str, object]
) -> None:
    src = next(v for v in data if v is not None and v.quant is not None)
    outputs = [(o.name, o.type.with_dtype(src.dtype), src.quant) for o in node.outputs]
    values = ctx.emit("Move", data, {**attrs, TOP_OP: node.op_type}, outputs)
    for top_out, v in zip(node.outputs, values, strict=True):
        v.meta["precision"] = "INT8"
        ctx.bind(top_out, v)


@int8_rule(*PURE_MOVES, "Pad", "Resize")
def lower_move(ctx: LoweringContext, node: Node) -> bool:
    """Move the codes of the first input; other inputs must be constants."""
    x = ctx.as_int8(node.input(0))
    if x is None or any(v is not None and v.const is None for v in node.inputs[1:]):
        return False
    assert x.quant is not None
    attrs: dict[str, object] = {k: v for k, v in node.attrs.items() if k != "relu_limit"}
    attrs.update(relu_attrs(node, x.quant))
    if node.op_type == "Resize" and node.str("mode", "nearest") != "nearest":
        return False
    if node.op_type == "Pad" and node.str("mode", "constant") == "constant":
        fill = quantize(float(node.float("value", 0.0)), x.quant)
        attrs["value"] = float(int(fill))
    rest = [None if v is None else ctx.natural(v) for v in node.inputs[1:]]
    _emit_move(ctx, node, [x, *rest], attrs)
    return True


@int8_rule("Concat")
def lower_concat(ctx: LoweringContext, node: Node) -> bool:
    """Inputs re-quantized to the output's calibrated form, then concatenated."""
    out = node.output
    if out.quant is None or node.attrs.get("do_relu"):
        return False
    parts: list[Value | None] = []
    for v in node.inputs:
        if v is None:
            continue
        if v.const is None and ctx.as_int8(v) is None:
            return False
        parts.append(ctx.as_quant(v, out.quant))
    (y,) = ctx.emit("Move", parts, {**node.attrs, TOP_OP: "Concat"}, [output_form(out)])
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True
