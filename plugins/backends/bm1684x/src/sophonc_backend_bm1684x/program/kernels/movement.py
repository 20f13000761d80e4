"""Ops that only move or select stored values, run on the raw integers.

Reshape, Transpose, Slice, Concat of equally quantized inputs, MaxPool, nearest
Resize and the like compute the same thing on int8 codes as on the reals they
stand for (the quantization is monotone and shared), so the chip copies bytes.
The core kernel of ``top_op`` does the moving; a result whose dtype differs from
the input's means the op was not a pure move, which is a lowering bug.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.errors import IRError
from sophonc.ir.node import Node
from sophonc.ir.types import numpy_dtype
from sophonc.ops.registry import get_schema
from sophonc_backend_bm1684x.program.kernels.float_op import TOP_OP, top_view
from sophonc_backend_bm1684x.program.registry import Array, chip_op


@chip_op("Move")
def move(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Run core op ``top_op`` on the stored integers unchanged."""
    results = list(get_schema(node.str(TOP_OP)).kernel(top_view(node), inputs))
    for r, out in zip(results, node.outputs, strict=True):
        if r.dtype != numpy_dtype(out.dtype):
            raise IRError(
                f"Move '{node.name}' ({node.str(TOP_OP)}) produced {r.dtype} values for "
                f"a {out.dtype} output"
            )
    return results
