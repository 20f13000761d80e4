"""The lowering driver: every top node in its precision, conversions in between.

Precision per node: the ``precision`` a quantizer recorded on its output (from
the calibration table, the chip's float-op list and the qtable), else the
``--quantize`` mode. INT8 nodes go through their INT8 rule; an op without one,
or a rule that declines, runs in F32 (the most accurate fallback; TPU-MLIR's own
INT8 lowering also falls back per op). Float nodes run their core kernel in that
precision. The program's inputs and outputs are F32, as TPU-MLIR's default
(``--quant_input``/``--quant_output`` off).
"""

from __future__ import annotations

import logging

import numpy as np

from sophonc.errors import SophonError
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.lowering.context import PRECISION_DTYPE, LoweringContext
from sophonc_backend_bm1684x.lowering.int8.lut import plan_lut_chains
from sophonc_backend_bm1684x.lowering.rules import find_int8_rule
from sophonc_backend_bm1684x.program.kernels.float_op import TOP_OP

log = logging.getLogger(__name__)

#: The precision an INT8 node falls back to when it cannot run in INT8.
INT8_FALLBACK = "F32"

#: Activations the BM1684X has no F16/BF16 form of: asked for in F16 or BF16
#: they run in F32 (as TPU-MLIR lowers them; native half-precision SiLU comes
#: with the BM1690 family). PP-OCRv4 rec's BF16 output cosine depends on it.
F32_ONLY_ACTIVATIONS = frozenset({"SiLU"})

FLOAT_TOP_DTYPES = ("f32", "f16", "bf16", "f64")


def node_precision(node: Node, mode: str) -> str:
    """The precision ``node`` runs in (its recorded one, else the deploy mode)."""
    if node.outputs:
        recorded = node.outputs[0].meta.get("precision")
        if isinstance(recorded, str):
            return recorded
    return mode


#: Ops whose input 2 is a bias the chip adds in its F32 accumulator.
BIAS_OPS = frozenset({"Conv", "ConvTranspose", "MatMul"})
#: Elementwise ops whose scalar constant operand is an F32 attribute on the chip.
SCALAR_CONST_OPS = frozenset({"Add", "Sub", "Mul", "Div", "Max", "Min"})


def _stays_f32(node: Node, index: int, v: Value) -> bool:
    """A constant the chip holds in F32 whatever the op's precision."""
    if v.const is None:
        return False
    if node.op_type in BIAS_OPS and index == 2:
        return True
    return node.op_type in SCALAR_CONST_OPS and np.asarray(v.const).size == 1


def lower_float(ctx: LoweringContext, node: Node, precision: str) -> None:
    """``node`` as a FloatOp: float inputs and outputs in ``precision``'s dtype.

    A constant bias of Conv/ConvTranspose/MatMul stays F32: the chip accumulates
    in F32 and adds the bias there, and a bias rounded to BF16 costs accuracy on
    outputs near zero (PP-OCR's probability maps) for nothing. So does the scalar
    of an elementwise op with a constant (TPU-MLIR's AddConst/MulConst carry it as
    an F64 attribute): rounded to BF16, the shift of PP-OCRv4 rec's learnable
    HardSwish moved every element of a channel the same way, an error no later
    average pool evens out (BF16 output cosine 0.99868 against TPU-MLIR's 0.99968).
    """
    dtype = PRECISION_DTYPE[precision]
    inputs = [
        None if v is None else ctx.as_float(v, "f32" if _stays_f32(node, i, v) else dtype)
        for i, v in enumerate(node.inputs)
    ]
    outputs = [
        (o.name, o.type.with_dtype(dtype) if o.dtype in FLOAT_TOP_DTYPES else o.type, None)
        for o in node.outputs
    ]
    attrs = {**node.attrs, TOP_OP: node.op_type}
    for top_out, value in zip(
        node.outputs, ctx.emit("FloatOp", inputs, attrs, outputs), strict=True
    ):
        value.meta["precision"] = precision
        ctx.bind(top_out, value)


def lower_module(top: Module, mode: str) -> Module:
    """The BM1684X program of ``top`` for deploy mode ``mode`` (F32/F16/BF16/INT8)."""
    ctx = LoweringContext(top.graph)
    for v in top.graph.inputs:
        ctx.add_input(v)
    ctx.absorbed = plan_lut_chains(top.graph, lambda n: node_precision(n, mode) == "INT8")
    fallbacks: list[str] = []
    for node in top.graph.nodes:
        if id(node) in ctx.absorbed:
            continue
        precision = node_precision(node, mode)
        if precision == "INT8":
            rule = find_int8_rule(node.op_type)
            if rule is not None and rule(ctx, node):
                continue
            fallbacks.append(node.op_type)
            precision = INT8_FALLBACK
        if precision in ("F16", "BF16") and node.op_type in F32_ONLY_ACTIVATIONS:
            precision = "F32"
        if precision not in PRECISION_DTYPE:
            raise SophonError(
                f"node '{node.name}' asks for precision {precision}; BM1684X runs "
                f"F32, F16, BF16 and INT8"
            )
        lower_float(ctx, node, precision)
    if fallbacks:
        counts = {op: fallbacks.count(op) for op in sorted(set(fallbacks))}
        log.info("ran in %s instead of INT8: %s", INT8_FALLBACK, counts)
    _bind_outputs(ctx, top)
    program = Module(top.name, ctx.graph, dict(top.metadata))
    program.metadata.update({"state": "TPU_LOWERED", "chip": "bm1684x", "mode": mode})
    return program


def _bind_outputs(ctx: LoweringContext, top: Module) -> None:
    """Program outputs: every top output in f32, under the top output's name."""
    outputs = []
    for v in top.graph.outputs:
        f32 = ctx.as_float(v, "f32") if v.dtype in FLOAT_TOP_DTYPES else ctx.natural(v)
        nat = ctx.natural(v)
        if f32 is not nat and f32.name != v.name and f32.const is None:
            # The f32 copy is what users read: give it the framework name.
            nat.name = ctx.unique(f"{v.name}_{nat.dtype}")
            f32.name = v.name
        outputs.append(f32)
    ctx.graph.outputs = outputs
