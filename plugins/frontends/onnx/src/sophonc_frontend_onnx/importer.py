"""ONNX ``ModelProto`` -> core :class:`Module`.

Fixes the input shapes, turns initializers into weights, walks the nodes in
dependency order (only those the requested outputs need) and hands each to its
converter. Names follow TPU-MLIR: inputs and initializers keep theirs, node outputs
become ``<onnx tensor>_<OpType>``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from sophonc.api import FrontendOptions
from sophonc.errors import ModelLoadError, ShapeError
from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.types import TensorType, numpy_dtype
from sophonc.ir.value import Value
from sophonc_frontend_onnx.context import ConversionContext
from sophonc_frontend_onnx.dtypes import ir_dtype
from sophonc_frontend_onnx.loader import default_opset, domain_opsets
from sophonc_frontend_onnx.onnx_node import OnnxNode
from sophonc_frontend_onnx.registry import get_converter

log = logging.getLogger(__name__)

MODULE_METADATA = {"platform": "ONNX", "state": "TOP_F32", "chip": "ALL"}


def model_input_dims(vi: Any) -> list[int | None] | None:
    """An input's dims from its ValueInfo: None for a dynamic dim, None if no shape."""
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims: list[int | None] = []
    for d in t.shape.dim:
        dims.append(int(d.dim_value) if d.HasField("dim_value") and d.dim_value > 0 else None)
    return dims


def resolve_input_shapes(
    inputs: Sequence[Any], given: Sequence[Sequence[int]]
) -> list[tuple[int, ...]]:
    """The static shape of each graph input, from the model and ``--input_shapes``."""
    if given and len(given) != len(inputs):
        names = ", ".join(vi.name for vi in inputs)
        raise ShapeError(
            f"--input_shapes gives {len(given)} shape(s) but the model has {len(inputs)} "
            f"input(s) ({names}); give one shape per input, in order"
        )
    shapes: list[tuple[int, ...]] = []
    for i, vi in enumerate(inputs):
        dims = model_input_dims(vi)
        shown = "unknown" if dims is None else [("?" if d is None else d) for d in dims]
        if given:
            want = tuple(int(d) for d in given[i])
            if dims is not None and len(dims) != len(want):
                raise ShapeError(
                    f"input '{vi.name}': the model's shape {shown} has rank {len(dims)} but "
                    f"--input_shapes gives {list(want)}; give a shape of rank {len(dims)}"
                )
            if any(d <= 0 for d in want):
                raise ShapeError(
                    f"input '{vi.name}': --input_shapes gives {list(want)}; every dimension "
                    f"must be a positive integer"
                )
            if dims is not None:
                for m, w in zip(dims, want, strict=True):
                    if m is not None and m != w:
                        raise ShapeError(
                            f"input '{vi.name}': the model fixes its shape to {shown} but "
                            f"--input_shapes gives {list(want)}; only dynamic dims (?) "
                            f"may be set"
                        )
            shapes.append(want)
        else:
            if dims is None or any(d is None for d in dims):
                raise ShapeError(
                    f"input '{vi.name}' has dynamic shape {shown}; fix it with "
                    f"--input_shapes (one shape per input, e.g. [[1,3,224,224]])"
                )
            shapes.append(tuple(d for d in dims if d is not None))
    return shapes


def _needed_nodes(nodes: Sequence[Any], wanted: Sequence[str], known: set[str]) -> list[Any]:
    """The nodes ``wanted`` depends on, in a valid execution order."""
    producer: dict[str, int] = {}
    for i, n in enumerate(nodes):
        for o in n.output:
            if o:
                producer[o] = i
    needed: set[int] = set()
    stack = [t for t in wanted if t in producer]
    while stack:
        i = producer[stack.pop()]
        if i in needed:
            continue
        needed.add(i)
        stack.extend(t for t in nodes[i].input if t and t in producer)
    # Stable topological order: ONNX requires sorted nodes but some exporters slip.
    order: list[Any] = []
    ready = set(known)
    pending = [i for i in range(len(nodes)) if i in needed]
    while pending:
        rest = []
        for i in pending:
            n = nodes[i]
            if all(not t or t in ready or t not in producer for t in n.input):
                order.append(n)
                ready.update(o for o in n.output if o)
            else:
                rest.append(i)
        if len(rest) == len(pending):
            raise ModelLoadError(
                f"the ONNX graph has a cycle through node '{nodes[rest[0]].name}'; "
                f"the model is malformed"
            )
        pending = rest
    return order


def import_model(model: Any, options: FrontendOptions) -> Module:
    """Convert a loaded ``ModelProto`` into a top-level F32 module."""
    from onnx import numpy_helper

    opset = default_opset(model)
    opsets = domain_opsets(model)
    g = model.graph
    if len(g.sparse_initializer):
        raise ModelLoadError(
            "the model has sparse initializers, which sophonc does not read; "
            "densify them (onnx.numpy_helper) and re-save the model"
        )
    init_names = {t.name for t in g.initializer}
    real_inputs = [vi for vi in g.input if vi.name not in init_names]
    shapes = resolve_input_shapes(real_inputs, options.input_shapes)

    graph = Graph(g.name or options.model_name)
    ctx = ConversionContext(graph, opset)
    for vi, shape in zip(real_inputs, shapes, strict=True):
        dtype = ir_dtype(vi.type.tensor_type.elem_type, f"input '{vi.name}'")
        v = Value(vi.name, TensorType(dtype, shape))
        ctx.reserve(vi.name)
        graph.inputs.append(v)
        ctx.bind(vi.name, v)
    for t in g.initializer:
        arr = numpy_helper.to_array(t)
        dtype = ir_dtype(t.data_type, f"initializer '{t.name}'")
        arr = np.asarray(arr, order="C").astype(numpy_dtype(dtype), copy=False)
        ctx.reserve(t.name)
        ctx.bind(t.name, Value.weight(t.name, arr))

    wanted = list(options.output_names) or [o.name for o in g.output]
    produced = {o for n in g.node for o in n.output if o}
    known = set(init_names) | {vi.name for vi in real_inputs}
    for name in wanted:
        if name not in produced and name not in known:
            raise ModelLoadError(
                f"output '{name}' is not a tensor of the model; give ONNX tensor names "
                f"(as shown by netron) to --output_names"
            )
    for proto in _needed_nodes(list(g.node), wanted, known):
        dom = "" if proto.domain in ("", "ai.onnx") else proto.domain
        node = OnnxNode(proto, opsets.get(dom, opset if not dom else 1))
        fn = get_converter(node.op_type, node.opset, node.name, dom)
        results = list(fn(ctx, node))
        for i, onnx_name in enumerate(node.outputs):
            if not onnx_name:
                continue
            result = results[i] if i < len(results) else None
            if result is None:
                ctx.mark_unavailable(
                    onnx_name,
                    f"{node.op_type} node '{node.name}': output {i} '{onnx_name}' is used "
                    f"but sophonc does not compute it (only the inference outputs of "
                    f"{node.op_type} are supported)",
                )
            else:
                ctx.bind(onnx_name, result)
    graph.outputs = [ctx.lookup(name) for name in wanted]
    log.info(
        "imported ONNX model (opset %d): %d nodes, %d weights",
        opset,
        len(graph.nodes),
        len(graph.weights()),
    )
    return Module(options.model_name, graph, dict(MODULE_METADATA))
