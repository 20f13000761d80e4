"""Linear algebra: MatMul, Gemm (-> MatMul) and Einsum.

Gemm computes ``alpha * A' @ B' + beta * C``. Transposes and scale factors on
constant operands fold into new weights (the emitted Transpose/Mul run at import),
so the common fully-connected layer becomes one MatMul with weight and bias; only
run-time operands keep explicit Transpose/Mul/Add nodes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.types import numpy_dtype
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import converter


@converter("MatMul", since=1)
def convert_matmul_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """MatMul maps one to one (numpy semantics)."""
    return ctx.emit("MatMul", [ctx.value(node, 0), ctx.value(node, 1)], {}, node=node)


def _scalar(ctx: ConversionContext, node: OnnxNode, like: Value, v: float, tag: str) -> Value:
    return ctx.weight(ctx.helper_name(node, tag), np.asarray(v, dtype=numpy_dtype(like.dtype)))


@converter("Gemm", since=7)
def convert_gemm_v7(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Gemm -> MatMul with bias (transA/transB/alpha/beta folded where constant)."""
    a = ctx.value(node, 0)
    b = ctx.value(node, 1)
    c = ctx.opt_value(node, 2)
    alpha = node.float("alpha", 1.0)
    beta = node.float("beta", 1.0)
    if node.int("transA", 0):
        a = ctx.emit1("Transpose", [a], {"perm": (1, 0)}, node=node, suffix="transA")
    if node.int("transB", 0):
        b = ctx.emit1("Transpose", [b], {"perm": (1, 0)}, node=node, suffix="transB")
    scale_after = alpha != 1.0
    if scale_after and b.is_const:
        b = ctx.emit1("Mul", [b, _scalar(ctx, node, b, alpha, "alpha")], node=node, suffix="B")
        scale_after = False
    if c is not None and beta != 1.0:
        c = ctx.emit1("Mul", [c, _scalar(ctx, node, c, beta, "beta")], node=node, suffix="C")
    if c is not None and c.is_const and not scale_after:
        if len(c.shape) == 2 and c.shape[0] == 1:
            c = ctx.reshape(c, c.shape[1:], node=node, suffix="bias")
        return ctx.emit("MatMul", [a, b, c], {}, node=node)
    last = "none"
    if scale_after:
        last = "alpha"
    if c is not None:
        last = "bias"
    y = ctx.emit1("MatMul", [a, b], {}, node=node, suffix=None if last == "none" else "matmul")
    if scale_after:
        s = _scalar(ctx, node, y, alpha, "alpha")
        y = ctx.emit1("Mul", [y, s], {}, node=node, suffix=None if last == "alpha" else "scaled")
    if c is not None:
        y = ctx.emit1("Add", [y, c], {}, node=node)
    return [y]


@converter("Einsum", since=12)
def convert_einsum_v12(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Einsum with its equation, spaces removed."""
    inputs = [ctx.value(node, i) for i in range(len(node.inputs))]
    equation = node.str("equation", "").replace(" ", "")
    return ctx.emit("Einsum", inputs, {"equation": equation}, node=node)
