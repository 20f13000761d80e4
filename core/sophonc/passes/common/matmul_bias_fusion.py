"""Give MatMul its bias: ``MatMul(x, W) + b`` → ``MatMul(x, W, b)``."""

from __future__ import annotations

import numpy as np

from sophonc.ir.module import Module
from sophonc.ir.shadows import add_alias, carry
from sophonc.ir.value import Value
from sophonc.passes.common.hard_activation_fusion import retyped
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import produce_with, sole_reader


class MatMulBiasFusionPass(InPlacePass):
    """``Add(MatMul(x, W), b)`` → ``MatMul(x, W, b)`` when ``b`` is a constant that
    varies only along the last axis (a Linear layer's bias) and the MatMul has no
    bias or fused activation yet and feeds only the Add.

    Exporters often split Linear layers this way. With the bias inside, INT8
    adds it as an int32 in the accumulator instead of a separate int8 Add with
    its own requantization. The result keeps the Add's tensor name.
    """

    requires = frozenset({SHAPES})
    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        modified = False
        for add in list(graph.nodes):
            if add.op_type != "Add" or add.attrs.get("do_relu") or len(add.inputs) != 2:
                continue
            for mm_out, bias in ((add.inputs[0], add.inputs[1]), (add.inputs[1], add.inputs[0])):
                if mm_out is None or bias is None or bias.const is None:
                    continue
                mm = mm_out.producer
                if mm is None or mm.op_type != "MatMul" or mm.opt_input(2) is not None:
                    continue
                if mm.attrs.get("do_relu") or sole_reader(graph, mm_out) is not add:
                    continue
                if add.output.type != mm_out.type or not mm_out.shape:
                    continue
                n = mm_out.shape[-1]
                data = np.asarray(bias.const)
                if data.size not in (1, n) or any(d != 1 for d in data.shape[:-1]):
                    continue
                vec = np.broadcast_to(data.reshape(-1), (n,)).astype(np.float32)
                b = Value.weight(f"{add.output.name}_bias", vec)
                a, w = mm.inputs[0], mm.inputs[1]
                produce_with(
                    graph, add, "MatMul", [a, w, b], dict(mm.attrs), [add.output], [mm, add]
                )
                # The MatMul's own result (TPU-MLIR may keep it) is y - bias.
                carry(mm_out, add.output, 1.0, -vec.astype(np.float64), axis=-1)
                # TPU-MLIR calls the fused result a Gemm.
                add_alias(add.output, retyped(add.output.name, "Gemm"))
                modified = True
                break
        return PassResult(module, modified)
