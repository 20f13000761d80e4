"""The common end of every integer op: zero point, fused ReLU, saturation."""

from __future__ import annotations

import numpy as np

from sophonc.ir.node import Node
from sophonc.quant import saturate
from sophonc.quant.rounding import Int64Array
from sophonc_backend_bm1684x.program.registry import Array
from sophonc_backend_bm1684x.program.storage import per_tensor


def clamp_relu(node: Node, codes: Int64Array) -> Int64Array:
    """A fused ReLU on output codes: at least the output's zero point (real 0),
    at most the quantized ``relu_upper`` when the ReLU has a limit.

    The floor is the zero point, not code 0: with an asymmetric output, code 0
    stands for ``-zp·scale``, which a ReLU must neither let through nor cut at.
    """
    if not node.attrs.get("do_relu"):
        return codes
    _, zp = per_tensor(node.output)
    clamped: Int64Array = np.maximum(codes, zp)
    upper = node.attrs.get("relu_upper")
    if upper is not None:
        clamped = np.minimum(clamped, int(upper))  # type: ignore[arg-type]
    return clamped


def finish(node: Node, y: Int64Array) -> Array:
    """``y`` (already requantized, without zero point) stored in the output's form.

    Adds the output zero point, clamps for a fused ReLU (:func:`clamp_relu`),
    then saturates.
    """
    out = node.output
    _, zp = per_tensor(out)
    y = clamp_relu(node, y + zp)
    assert out.quant is not None
    return saturate(y, out.quant.storage)
