"""Division by a constant becomes multiplication by its reciprocal."""

from __future__ import annotations

import numpy as np

from sophonc.ir.module import Module
from sophonc.ir.value import Value
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import produce_with


class DivisionByConstantPass(InPlacePass):
    """``Div(x, c)`` → ``Mul(x, 1/c)`` for a float constant ``c`` without zeros.

    A multiply is cheaper on every target and runs in INT8 (a Div has no integer
    form and would fall back to float). ``1/c`` is computed in float64 and stored
    f32, so results differ from the division by at most one f32 rounding. The
    result keeps the Div's tensor name.
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for div in list(graph.nodes):
            if div.op_type != "Div" or len(div.inputs) != 2:
                continue
            x, c = div.inputs
            if x is None or c is None or c.const is None or c.dtype not in ("f32", "f16"):
                continue
            data = np.asarray(c.const, dtype=np.float64)
            if data.size == 0 or np.any(data == 0) or not np.all(np.isfinite(data)):
                continue
            recip = Value.weight(f"{div.output.name}_reciprocal", (1.0 / data).astype(np.float32))
            produce_with(graph, div, "Mul", [x, recip], {}, [div.output], [div])
            modified = True
        return PassResult(module, modified)
