"""Evaluate at compile time what depends on constants and static shapes only."""

from __future__ import annotations

import logging

import numpy as np

from sophonc.errors import SophonError
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.types import TensorType, numpy_dtype
from sophonc.ir.value import Value
from sophonc.ops.registry import Array, get_schema
from sophonc.passes.infra import SHAPES, SORTED, InPlacePass, PassResult
from sophonc.passes.rewrite import remove_nodes, replace_value

log = logging.getLogger(__name__)

#: Results larger than this many elements stay computed at run time: folding
#: them (an Expand or Tile of a small constant) would bloat the weight file.
MAX_FOLDED_ELEMENTS = 1 << 24


def _shape_only(node: Node) -> Array | None:
    """The value of ops that read only their input's static shape."""
    x = node.inputs[0] if node.inputs else None
    if x is None or x.type.shape is None:
        return None
    shape = np.asarray(x.type.shape, dtype=np.int64)
    if node.op_type == "Shape":
        rank = len(shape)
        start = int(node.attrs.get("start", 0))  # type: ignore[arg-type]
        end = int(node.attrs.get("end", rank))  # type: ignore[arg-type]
        start = min(max(start + rank if start < 0 else start, 0), rank)
        end = min(max(end + rank if end < 0 else end, 0), rank)
        return shape[start:end]
    if node.op_type == "Size":
        return np.asarray(int(np.prod(shape)), dtype=np.int64)
    return None


class ConstantFoldingPass(InPlacePass):
    """Replaces computable nodes by weights holding their results.

    Rewrite rules:

    * a node whose every input is a constant (or omitted) becomes weights named
      like its outputs, computed by the op's reference kernel;
    * ``Shape``/``Size`` of a tensor with a static shape become constants, which
      is what lets exporter shape arithmetic (Shape → Gather → Concat → Reshape,
      Range, ConstantOfShape) collapse into static attributes.

    Results above :data:`MAX_FOLDED_ELEMENTS` elements are left in place.
    """

    preserves = frozenset({SHAPES, SORTED})

    def call(self, module: Module) -> PassResult:
        graph = module.graph
        folded: list[Node] = []
        for node in graph.nodes:
            results = self._evaluate(node)
            if results is None:
                continue
            for out, arr in zip(node.outputs, results, strict=True):
                # The shape rule fixes the dtype; kernels may compute in a wider one.
                data = np.ascontiguousarray(arr).astype(numpy_dtype(out.type.dtype), copy=False)
                weight = Value(out.name, TensorType(out.type.dtype, tuple(data.shape)), const=data)
                weight.quant = out.quant
                weight.meta.update(out.meta)
                replace_value(graph, out, weight)
            folded.append(node)
        if folded:
            remove_nodes(graph, folded)
        return PassResult(module, bool(folded))

    def _evaluate(self, node: Node) -> list[Array] | None:
        shape_value = _shape_only(node) if node.op_type in ("Shape", "Size") else None
        if shape_value is not None:
            return [shape_value]
        if not all(v is None or v.const is not None for v in node.inputs):
            return None
        for out in node.outputs:
            if out.type.shape is not None and out.type.numel > MAX_FOLDED_ELEMENTS:
                return None
        schema = get_schema(node.op_type)
        args = [None if v is None else v.const for v in node.inputs]
        try:
            return [np.asarray(a) for a in schema.kernel(node, args)]
        except SophonError:
            raise
        except Exception as exc:
            raise SophonError(
                f"folding {node.op_type} '{node.name}' on constant inputs failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
