"""Re-derive every node output's type from its inputs with the op's shape rule."""

from __future__ import annotations

from sophonc.errors import ShapeError, SophonError
from sophonc.ir.module import Module
from sophonc.ops.registry import get_schema
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult


class ShapeInferencePass(InPlacePass):
    """Types every node output (in graph order) with its op's ``infer`` rule.

    Rewrite rule: ``out.type := schema.infer(node)[i]``. Reports a change when any
    type differs from what was stored. Quantized types (``Value.quant``) are kept.
    """

    requires = frozenset({SORTED})
    ensures = frozenset({SHAPES})
    preserves = frozenset({SORTED})

    def call(self, module: Module) -> PassResult:
        modified = False
        for node in module.graph.nodes:
            schema = get_schema(node.op_type)
            try:
                types = list(schema.infer(node))
            except SophonError as exc:
                raise ShapeError(f"{node.op_type} '{node.name}': {exc}") from exc
            except Exception as exc:
                raise ShapeError(
                    f"{node.op_type} '{node.name}': shape rule failed ({type(exc).__name__}: {exc})"
                ) from exc
            if len(types) != len(node.outputs):
                raise ShapeError(
                    f"{node.op_type} '{node.name}': shape rule gave {len(types)} types "
                    f"for {len(node.outputs)} outputs"
                )
            for out, t in zip(node.outputs, types, strict=True):
                if out.type != t:
                    out.type = t
                    modified = True
        return PassResult(module, modified)
