"""Elementwise ONNX ops: arithmetic, comparison, logic, unary math, variadic.

From opset 7 on, every binary op broadcasts like numpy, which is the core ops'
rule, so most ops map one to one. The exceptions are spelled out: Pow may have an
exponent of another type (cast to the base's type, which is the result type),
IsInf's sign filters and Tan, which core expresses as Sin / Cos.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.types import numpy_dtype
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import ConverterFn, converter, register_converter

#: ONNX op -> core op, same inputs, no attributes.
_DIRECT = {
    "Add": "Add",
    "Sub": "Sub",
    "Mul": "Mul",
    "Div": "Div",
    "Equal": "Equal",
    "Less": "Less",
    "LessOrEqual": "LessOrEqual",
    "Greater": "Greater",
    "GreaterOrEqual": "GreaterOrEqual",
    "And": "And",
    "Or": "Or",
    "Xor": "Xor",
    "Not": "Not",
    "Where": "Where",
    "Max": "Max",
    "Min": "Min",
    "Sum": "Sum",
    "Mean": "Mean",
    "Relu": "Relu",
    "Sigmoid": "Sigmoid",
    "Tanh": "Tanh",
    "Exp": "Exp",
    "Log": "Log",
    "Sqrt": "Sqrt",
    "Reciprocal": "Reciprocal",
    "Abs": "Abs",
    "Neg": "Neg",
    "Floor": "Floor",
    "Ceil": "Ceil",
    "Round": "Round",
    "Sign": "Sign",
    "Erf": "Erf",
    "Sin": "Sin",
    "Cos": "Cos",
    "Softplus": "Softplus",
    "Softsign": "Softsign",
    "Mish": "Mish",
    "IsNaN": "IsNaN",
}


def _direct(core_op: str, onnx_op: str) -> ConverterFn:
    def convert(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
        inputs = [ctx.value(node, i) for i in range(len(node.inputs)) if node.input_given(i)]
        return ctx.emit(core_op, inputs, {}, node=node)

    convert.__name__ = f"convert_{onnx_op.lower()}_v1"
    convert.__doc__ = f"ONNX {onnx_op} -> core {core_op} (same inputs, no attributes)."
    return convert


for _onnx_op, _core_op in _DIRECT.items():
    register_converter(_onnx_op, 1, _direct(_core_op, _onnx_op))


@converter("Pow", since=1)
def convert_pow_v1(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Pow: the result has the base's type, so the exponent is cast to it first."""
    a = ctx.value(node, 0)
    b = ctx.cast(ctx.value(node, 1), a.dtype, node=node, suffix="exponent")
    return ctx.emit("Pow", [a, b], {}, node=node)


@converter("Mod", since=10)
def convert_mod_v10(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Mod: ``fmod`` 0 takes the divisor's sign (Python %), 1 the dividend's (C fmod)."""
    return ctx.emit(
        "Mod", [ctx.value(node, 0), ctx.value(node, 1)], {"fmod": node.int("fmod", 0)}, node=node
    )


@converter("IsInf", since=10)
def convert_isinf_v10(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """IsInf with sign filters: core IsInf catches both signs, so a filter ANDs a sign test."""
    x = ctx.value(node, 0)
    pos = node.int("detect_positive", 1)
    neg = node.int("detect_negative", 1)
    if pos and neg:
        return ctx.emit("IsInf", [x], {}, node=node)
    if not pos and not neg:
        zero = ctx.weight(ctx.helper_name(node, "false"), np.zeros((), dtype=np.bool_))
        return ctx.emit("And", [ctx.emit1("IsNaN", [x], node=node, suffix="nan"), zero], node=node)
    inf = ctx.emit1("IsInf", [x], {}, node=node, suffix="any")
    zero = ctx.weight(ctx.helper_name(node, "zero"), np.zeros((), dtype=numpy_dtype(x.dtype)))
    sign = ctx.emit1("Greater" if pos else "Less", [x, zero], {}, node=node, suffix="sign")
    return ctx.emit("And", [inf, sign], {}, node=node)


@converter("Tan", since=7)
def convert_tan_v7(ctx: ConversionContext, node: OnnxNode) -> Sequence[Value | None]:
    """Tan = Sin / Cos (core has no Tan)."""
    x = ctx.value(node, 0)
    s = ctx.emit1("Sin", [x], {}, node=node, suffix="sin")
    c = ctx.emit1("Cos", [x], {}, node=node, suffix="cos")
    return ctx.emit("Div", [s, c], {}, node=node)
