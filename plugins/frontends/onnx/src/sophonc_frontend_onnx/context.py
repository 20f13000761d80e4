"""The conversion context: ONNX tensor names -> IR values, and node emission.

Every core node a converter creates goes through :meth:`ConversionContext.emit`,
which types its outputs at once with the op's shape rule and, when every input is a
constant, runs the op's kernel instead of adding the node. That folding is what
turns exporter shape arithmetic (Shape -> Gather -> Concat -> Reshape, Range,
ConstantOfShape, …) into the static attributes the core ops require: by the time a
Reshape converter asks for its shape input, the whole chain above it has become one
weight.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.errors import ModelLoadError, ShapeError, SophonError
from sophonc.ir.graph import Graph
from sophonc.ir.node import Node
from sophonc.ir.types import TensorType, numpy_dtype
from sophonc.ir.value import Value
from sophonc.ops.registry import get_schema
from sophonc_frontend_onnx.onnx_node import OnnxNode

log = logging.getLogger(__name__)

Array = npt.NDArray[np.generic]


class ConversionContext:
    """State shared by the converters while one ONNX graph is imported.

    ``opset`` is the model's default-domain opset. Values are looked up by ONNX
    tensor name; IR names are kept unique across inputs, weights and node outputs.
    """

    def __init__(self, graph: Graph, opset: int) -> None:
        self.graph = graph
        self.opset = opset
        self._values: dict[str, Value] = {}
        self._taken: set[str] = set()
        self._unavailable: dict[str, str] = {}

    # ----------------------------------------------------------------- names
    def unique(self, base: str) -> str:
        """``base`` if unused, else ``base_1``, ``base_2``, … (graph.unique_name's scheme)."""
        name = base
        i = 1
        while name in self._taken:
            name = f"{base}_{i}"
            i += 1
        self._taken.add(name)
        return name

    def reserve(self, name: str) -> None:
        """Mark an IR name as taken (graph inputs, initializers)."""
        self._taken.add(name)

    # ---------------------------------------------------------------- values
    def bind(self, onnx_name: str, value: Value) -> None:
        """Make ``onnx_name`` refer to ``value`` for the nodes that follow."""
        self._values[onnx_name] = value

    def mark_unavailable(self, onnx_name: str, reason: str) -> None:
        """Record an ONNX output no converter computes; reading it raises ``reason``."""
        self._unavailable[onnx_name] = reason

    def has(self, onnx_name: str) -> bool:
        """Whether the ONNX tensor is already known."""
        return onnx_name in self._values

    def lookup(self, onnx_name: str) -> Value:
        """The value of an ONNX tensor; IR error if it was never produced."""
        try:
            return self._values[onnx_name]
        except KeyError:
            if onnx_name in self._unavailable:
                raise ModelLoadError(self._unavailable[onnx_name]) from None
            raise ModelLoadError(
                f"ONNX tensor '{onnx_name}' is read before anything produces it; "
                f"the model is malformed (check it with onnx.checker)"
            ) from None

    def value(self, node: OnnxNode, index: int) -> Value:
        """Required input ``index`` of ``node``."""
        if not node.input_given(index):
            raise ModelLoadError(
                f"{node.op_type} node '{node.name}' lacks its required input {index}; "
                f"the model is malformed (check it with onnx.checker)"
            )
        return self.lookup(node.inputs[index])

    def opt_value(self, node: OnnxNode, index: int) -> Value | None:
        """Optional input ``index`` of ``node``, None when omitted."""
        return self.lookup(node.inputs[index]) if node.input_given(index) else None

    def const(self, node: OnnxNode, index: int, what: str) -> Array | None:
        """The compile-time data of input ``index`` (None when omitted).

        Core ops take these as attributes, so a value computed at run time is an
        error naming the node, the input and the way out.
        """
        v = self.opt_value(node, index)
        if v is None:
            return None
        if v.const is None:
            raise ModelLoadError(
                f"{node.op_type} node '{node.name}': input {index} '{node.inputs[index]}' "
                f"({what}) must be a compile-time constant but is computed at run time; "
                f"fix dynamic dimensions with --input_shapes or simplify the model "
                f"(e.g. onnxsim)"
            )
        return v.const

    def weight(self, name: str, data: npt.ArrayLike) -> Value:
        """A new constant value under a unique IR name."""
        return Value.weight(self.unique(name), np.asarray(data))

    def helper_name(self, node: OnnxNode, suffix: str) -> str:
        """A name for an intermediate of a multi-op expansion: ``<final name>_<suffix>``."""
        base = next((n for n in node.out_names if n), node.name)
        return f"{base}_{suffix}"

    # ------------------------------------------------------------------ emit
    def emit(
        self,
        op_type: str,
        inputs: Sequence[Value | None],
        attrs: Mapping[str, object] | None = None,
        *,
        node: OnnxNode,
        suffix: str | None = None,
        n_outputs: int | None = None,
    ) -> list[Value]:
        """Create a core node (or fold it into weights) and return its outputs.

        Without ``suffix`` this is the node producing the ONNX outputs: its values
        get the TPU-MLIR names ``<onnx output>_<OpType>``. With ``suffix`` it is a
        helper of an expansion and gets ``<final name>_<suffix>`` (made unique).
        """
        if suffix is None:
            count = n_outputs if n_outputs is not None else max(len(node.outputs), 1)
            wanted = node.out_names[:count]
            wanted += [""] * (count - len(wanted))
            names = [
                self.unique(w) if w else self.unique(self.helper_name(node, f"out{i}"))
                for i, w in enumerate(wanted)
            ]
        else:
            count = n_outputs if n_outputs is not None else 1
            base = self.helper_name(node, suffix)
            names = [self.unique(base if count == 1 else f"{base}{i}") for i in range(count)]
        ir_node = Node(op_type, inputs, names, attrs)
        schema = get_schema(op_type)
        try:
            types = list(schema.infer(ir_node))
        except SophonError as exc:
            ir_node.detach()
            raise ShapeError(f"{node.op_type} node '{node.name}': {exc}") from exc
        except Exception as exc:
            ir_node.detach()
            raise ShapeError(
                f"{node.op_type} node '{node.name}': the shape rule of core op {op_type} "
                f"failed ({type(exc).__name__}: {exc}); the model's shapes do not fit"
            ) from exc
        for out, t in zip(ir_node.outputs, types, strict=True):
            out.type = t
        if all(v is None or v.const is not None for v in inputs):
            return self._fold(ir_node, node)
        self.graph.append(ir_node)
        return list(ir_node.outputs)

    def infer_types(
        self,
        op_type: str,
        inputs: Sequence[Value | None],
        attrs: Mapping[str, object] | None = None,
    ) -> list[TensorType]:
        """The output types core op ``op_type`` would have, without creating anything."""
        probe = Node(op_type, inputs, ["probe"], attrs)
        try:
            return list(get_schema(op_type).infer(probe))
        finally:
            probe.detach()

    def emit1(
        self,
        op_type: str,
        inputs: Sequence[Value | None],
        attrs: Mapping[str, object] | None = None,
        *,
        node: OnnxNode,
        suffix: str | None = None,
    ) -> Value:
        """:meth:`emit` for a single-output op."""
        return self.emit(op_type, inputs, attrs, node=node, suffix=suffix, n_outputs=1)[0]

    def _fold(self, ir_node: Node, node: OnnxNode) -> list[Value]:
        """Run an all-constant node's kernel; its outputs become weights of the same names."""
        schema = get_schema(ir_node.op_type)
        args = [None if v is None else v.const for v in ir_node.inputs]
        try:
            results = list(schema.kernel(ir_node, args))
        except SophonError:
            raise
        except Exception as exc:
            raise ShapeError(
                f"{node.op_type} node '{node.name}': folding core op {ir_node.op_type} on "
                f"constant inputs failed ({type(exc).__name__}: {exc})"
            ) from exc
        finally:
            ir_node.detach()
        folded: list[Value] = []
        for out, arr in zip(ir_node.outputs, results, strict=True):
            data = np.asarray(arr)
            # The shape rule fixes the dtype; kernels may compute in a wider type.
            data = data.astype(numpy_dtype(out.type.dtype), copy=False)
            w = Value(out.name, TensorType(out.type.dtype, tuple(data.shape)), const=data)
            folded.append(w)
        return folded

    # --------------------------------------------------------------- helpers
    def cast(self, v: Value, dtype: str, *, node: OnnxNode, suffix: str) -> Value:
        """``v`` converted to ``dtype`` (a Cast node or a folded constant; no-op if equal)."""
        if v.dtype == dtype:
            return v
        return self.emit1("Cast", [v], {"to": dtype}, node=node, suffix=suffix)

    def reshape(
        self, v: Value, shape: Iterable[int], *, node: OnnxNode, suffix: str | None
    ) -> Value:
        """``v`` reshaped to a fully resolved ``shape``."""
        return self.emit1(
            "Reshape", [v], {"shape": tuple(int(d) for d in shape)}, node=node, suffix=suffix
        )
