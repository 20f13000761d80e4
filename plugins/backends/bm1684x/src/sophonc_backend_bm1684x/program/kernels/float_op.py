"""Ops the chip runs in a float precision: F32, F16 or BF16.

The op's own core kernel (its reference semantics) computes in f32, then every
float output is rounded to the precision the value is stored in, as TPU-MLIR's
interpreter rounds each op's result for F16/BF16 modes. Inputs stored in f16/bf16
are widened exactly first.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.ir.node import Node
from sophonc.ops.registry import get_schema
from sophonc_backend_bm1684x.program.registry import Array, chip_op
from sophonc_backend_bm1684x.program.storage import is_float, to_storage

#: The attribute naming the core op a FloatOp runs.
TOP_OP = "top_op"


def top_view(node: Node) -> Node:
    """A core node with the program node's attributes minus ``top_op``.

    Core kernels read attributes, the arrays they are given and how many outputs
    the node has (Split), so this stand-in has no inputs and as many outputs,
    with the same types.
    """
    attrs = {k: v for k, v in node.attrs.items() if k != TOP_OP}
    outputs = [f"{o.name}#view" for o in node.outputs]
    types = [o.type for o in node.outputs]
    return Node(node.str(TOP_OP), [], outputs, attrs, name=node.name, output_types=types)


@chip_op("FloatOp")
def float_op(node: Node, inputs: Sequence[Array | None]) -> list[Array]:
    """Run core op ``top_op`` on f32-widened inputs; round outputs to their storage."""
    args = _widen(node, inputs)
    results = get_schema(node.str(TOP_OP)).kernel(top_view(node), args)
    return [to_storage(r, out.dtype) for r, out in zip(results, node.outputs, strict=True)]


def _widen(node: Node, inputs: Sequence[Array | None]) -> list[Array | None]:
    widened: list[Array | None] = []
    for x, v in zip(inputs, node.inputs, strict=True):
        if x is None or v is None:
            widened.append(x)
        elif is_float(v.dtype):
            widened.append(np.asarray(x, dtype=np.float32))
        else:
            widened.append(x)
    return widened
