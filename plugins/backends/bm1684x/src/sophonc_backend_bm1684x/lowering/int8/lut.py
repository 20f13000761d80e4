"""Elementwise functions of one tensor as 256-entry tables.

The table entry of each input byte is the function applied to the real value
that byte stands for, divided by the output scale, rounded half away from zero
and saturated: so a LUT op is exactly the F32 function evaluated at the 256
representable inputs, with one rounding. Beyond TPU-MLIR's activation LUTs:

* an Add/Sub/Mul/Div/Pow/Max/Min with a *scalar* constant is a function of one
  tensor too, and a table is exact where the integer Add would rescale both
  operands with 8-bit multipliers;
* a chain of such functions (PP-OCR's ``HardSwish → ·a → +b``) becomes one table
  (:func:`plan_lut_chains`): the intermediate tensors are never rounded to int8.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from sophonc.ir.graph import Graph
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.ops.registry import get_schema
from sophonc.quant import build_lut
from sophonc_backend_bm1684x.lowering.context import LoweringContext
from sophonc_backend_bm1684x.lowering.int8.common import output_form
from sophonc_backend_bm1684x.lowering.rules import int8_rule
from sophonc_backend_bm1684x.program.kernels.float_op import TOP_OP, top_view
from sophonc_backend_bm1684x.program.storage import per_tensor

F64 = npt.NDArray[np.float64]
RealFn = Callable[[F64], F64]

#: Unary float ops whose INT8 form is a table lookup.
LUT_OPS = (
    "Abs", "Ceil", "Clip", "Cos", "Elu", "Erf", "Exp", "Floor", "Gelu", "HardSigmoid",
    "HardSwish", "LeakyRelu", "Log", "Mish", "Neg", "Reciprocal", "Relu", "Round",
    "Selu", "Sigmoid", "SiLU", "Sign", "Sin", "Softplus", "Softsign", "Sqrt", "Tanh",
)  # fmt: skip
#: Binary ops that are a table when one operand is a scalar constant.
SCALAR_OPS = ("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min")


def _view(node: Node) -> Node:
    return top_view(Node("FloatOp", [], [o.name for o in node.outputs],
                         {**node.attrs, TOP_OP: node.op_type}, name=node.name,
                         output_types=[o.type for o in node.outputs]))  # fmt: skip


def _scalar_operand(node: Node) -> tuple[int, Value] | None:
    """(index of the activation, the scalar constant) of a binary op, if it has them."""
    if node.op_type not in SCALAR_OPS or len(node.inputs) != 2:
        return None
    a, b = node.inputs
    if a is None or b is None:
        return None
    if b.const is not None and a.const is None and np.asarray(b.const).size == 1:
        return 0, b
    if a.const is not None and b.const is None and np.asarray(a.const).size == 1:
        return 1, a
    return None


def data_input(node: Node) -> Value | None:
    """The one activation an elementwise-of-one-tensor node reads, else None."""
    if node.op_type in LUT_OPS:
        given = [v for v in node.inputs if v is not None]
        return given[0] if len(given) == 1 and given[0].const is None else None
    found = _scalar_operand(node)
    return None if found is None else node.inputs[found[0]]


def real_function(node: Node) -> RealFn | None:
    """``node`` as a function of its one activation (float64 in, float64 out)."""
    x = data_input(node)
    if x is None or len(node.outputs) != 1 or node.outputs[0].type != x.type:
        return None
    kernel = get_schema(node.op_type).kernel
    view = _view(node)
    found = _scalar_operand(node)

    def fn(values: F64) -> F64:
        arg = values.astype(np.float32)
        if found is None:
            args: list[Any] = [arg]
        else:
            const = np.asarray(found[1].const, np.float32).reshape(())
            args = [arg, const] if found[0] == 0 else [const, arg]
        (y,) = kernel(view, args)
        return np.asarray(y, dtype=np.float64)

    return fn


def plan_lut_chains(graph: Graph, is_int8: Callable[[Node], bool]) -> set[int]:
    """Ids of table nodes folded into the table of their only consumer.

    A node is folded when it and its consumer are both INT8 functions of one
    tensor, its output feeds only that consumer and is not a graph output, and
    the head of the chain reads a calibrated tensor (so the chain's input can
    always be had in int8).
    """
    outputs = {id(v) for v in graph.outputs}
    folded: set[int] = set()
    for node in graph.nodes:
        if not is_int8(node) or real_function(node) is None:
            continue
        out = node.outputs[0]
        readers = out.consumers()
        if id(out) in outputs or len(readers) != 1 or len(out.uses()) != 1:
            continue
        consumer = readers[0]
        if not is_int8(consumer) or real_function(consumer) is None:
            continue
        if consumer.outputs[0].quant is None:
            continue
        head = node
        x = data_input(head)
        while x is not None and x.producer is not None and id(x.producer) in folded:
            head = x.producer
            x = data_input(head)
        if x is None or x.quant is None:
            continue
        folded.add(id(node))
    return folded


def _chain(ctx: LoweringContext, node: Node) -> tuple[Value, RealFn] | None:
    """The chain ending at ``node``: its input and the composed function."""
    fns: list[RealFn] = []
    cur = node
    while True:
        fn = real_function(cur)
        x = data_input(cur)
        if fn is None or x is None:
            return None
        fns.append(fn)
        if x.producer is None or id(x.producer) not in ctx.absorbed:
            break
        cur = x.producer
    fns.reverse()

    def composed(values: F64) -> F64:
        for f in fns:
            values = f(values)
        return values

    return x, composed


@int8_rule(*LUT_OPS)
def lower_lut(ctx: LoweringContext, node: Node) -> bool:
    """A ``Lut`` node whose table is the node's function (or its whole chain's)."""
    out = node.output
    found = _chain(ctx, node)
    if out.quant is None or found is None:
        return False
    x_top, fn = found
    x = ctx.as_int8(x_top)
    if x is None or x.quant is None:
        return False
    in_scale, in_zp = per_tensor(x)
    table = build_lut(
        fn, in_scale, in_zp, x.quant.qmin < 0,
        out.quant.scale[0], out.quant.zero_point[0], out.quant.qmin < 0,
    )  # fmt: skip
    (y,) = ctx.emit(
        "Lut", [x, ctx.weight(f"{out.name}_table", table)], {"top_op": node.op_type},
        [output_form(out)],
    )  # fmt: skip
    y.meta["precision"] = "INT8"
    ctx.bind(out, y)
    return True
