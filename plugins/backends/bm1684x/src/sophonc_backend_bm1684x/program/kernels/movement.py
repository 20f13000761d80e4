"""Ops that only move or select stored values, run on the raw integers.

Reshape, Transpose, Slice, Concat of equally quantized inputs, MaxPool, nearest
Resize and the like compute the same thing on int8 codes as on the reals they
stand for (the quantization is monotone and shared), so the chip copies bytes.
The core kernel of ``top_op`` does the moving; a result whose dtype differs from
the input's means the op was not a pure move, which is a lowering bug.

A fused ReLU (a MaxPool's) is the one thing the core kernel must not do on
codes: it would clamp at code 0 and at the *real* limit. The core op runs
without it, and the codes are clamped at the output's zero point and at the
quantized ``relu_upper`` instead (:func:`clamp_relu`).
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.errors import IRError
from sophonc.ir.node import Node
from sophonc.ir.types import numpy_dtype
from sophonc.ops.registry import get_schema
from sophonc.quant import as_int64
from sophonc_backend_bm1684x.program.kernels.float_op import TOP_OP, top_view
from sophonc_backend_bm1684x.program.kernels.requant_tail import clamp_relu
from sophonc_backend_bm1684x.program.registry import Array, chip_op

#: Attributes of a fused ReLU, applied here on codes rather than by the core op.
FUSED_RELU_ATTRS = ("do_relu", "relu_limit", "relu_upper")


def _core_view(node: Node) -> Node:
    """The core node the move runs: the program node's attributes without the ReLU."""
    view = top_view(node)
    for key in FUSED_RELU_ATTRS:
        view.attrs.pop(key, None)
    return view


@chip_op("Move")
def move(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Run core op ``top_op`` on the stored integers unchanged (then the fused ReLU)."""
    results = list(get_schema(node.str(TOP_OP)).kernel(_core_view(node), inputs))
    for r, out in zip(results, node.outputs, strict=True):
        if r.dtype != numpy_dtype(out.dtype):
            raise IRError(
                f"Move '{node.name}' ({node.str(TOP_OP)}) produced {r.dtype} values for "
                f"a {out.dtype} output"
            )
    if node.attrs.get("do_relu"):
        results = [clamp_relu(node, as_int64(r)).astype(r.dtype) for r in results]
    return results
