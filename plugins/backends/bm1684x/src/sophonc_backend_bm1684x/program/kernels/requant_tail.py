"""The common end of every integer op: zero point, fused ReLU, saturation."""

from __future__ import annotations

import numpy as np

from sophonc.ir.node import Node
from sophonc.quant import saturate
from sophonc.quant.rounding import Int64Array
from sophonc_backend_bm1684x.program.registry import Array
from sophonc_backend_bm1684x.program.storage import per_tensor


def finish(node: Node, y: Int64Array) -> Array:
    """``y`` (already requantized, without zero point) stored in the output's form.

    Adds the output zero point, clamps at it for a fused ReLU and at the
    quantized ``relu_upper`` when the ReLU has a limit, then saturates.
    """
    out = node.output
    _, zp = per_tensor(out)
    y = y + zp
    if node.attrs.get("do_relu"):
        y = np.maximum(y, zp)
        upper = node.attrs.get("relu_upper")
        if upper is not None:
            y = np.minimum(y, int(upper))  # type: ignore[arg-type]
    assert out.quant is not None
    return saturate(y, out.quant.storage)
