"""Elementwise functions of one tensor as 256-entry tables (facts §3.4).

The table entry of each input byte is the op's own reference kernel applied to
the real value that byte stands for, divided by the output scale, rounded half
away from zero and saturated: so a LUT op is exactly the F32 op evaluated at the
256 representable inputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from sophonc.ir.node import Node
from sophonc.ops.registry import get_schema
from sophonc.quant import build_lut
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import output_form
from sophonc_backend_bm1684x.lowering.rules import int8_rule
from sophonc_backend_bm1684x.program.kernels.float_op import TOP_OP, top_view
from sophonc_backend_bm1684x.program.storage import per_tensor

#: Unary float ops whose INT8 form is a table lookup.
LUT_OPS = (
    "Abs", "Ceil", "Clip", "Cos", "Elu", "Erf", "Exp", "Floor", "Gelu", "HardSigmoid",
    "HardSwish", "LeakyRelu", "Log", "Mish", "Neg", "Reciprocal", "Relu", "Round",
    "Selu", "Sigmoid", "SiLU", "Sign", "Sin", "Softplus", "Softsign", "Sqrt", "Tanh",
)  # fmt: skip


def _reference(node: Node) -> Any:
    """The op's F32 reference as a function of a float64 array."""
    kernel = get_schema(node.op_type).kernel
    view = top_view(_with_top_op(node))

    def fn(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        (y,) = kernel(view, [x.astype(np.float32)])
        return np.asarray(y, dtype=np.float64)

    return fn


def _with_top_op(node: Node) -> Node:
    return Node("FloatOp", [], [], {**node.attrs, TOP_OP: node.op_type}, name=node.name)


@int8_rule(*LUT_OPS)
def lower_lut(ctx: LoweringContext, node: Node) -> bool:
    """A ``Lut`` node with the op's table."""
    out = node.output
    if out.quant is None or len([v for v in node.inputs if v is not None]) != 1:
        return False
    x = ctx.as_int8(node.input(0))
    if x is None:
        return False
    in_scale, in_zp = per_tensor(x)
    assert x.quant is not None
    table = build_lut(
        _reference(node),
        in_scale,
        in_zp,
        x.quant.qmin < 0,
        out.quant.scale[0],
        out.quant.zero_point[0],
        out.quant.qmin < 0,
    )
    (y,) = ctx.emit(
        "Lut", [x, ctx.weight(f"{out.name}_table", table)], {"top_op": node.op_type},
        [output_form(out)],
    )  # fmt: skip
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True
