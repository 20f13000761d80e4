"""The numpy reference interpreter: the F32 semantics of every core op.

It is the oracle of frontend tests (our IR against the framework's runtime), the
engine of constant folding and calibration, and the reference every backend
simulator is compared with. Heavy ops go through BLAS in their kernels, so it is
fast enough to calibrate real models.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from sophonc.errors import ShapeError, SophonError
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.types import numpy_dtype
from sophonc.ops.registry import Array, get_schema

#: Called after each node with the node and its outputs (for calibration hooks).
NodeObserver = Callable[[Node, list[Array]], None]


class Interpreter:
    """Runs a :class:`Module` on numpy inputs, node by node in graph order."""

    def __init__(self, module: Module) -> None:
        self.module = module
        graph = module.graph
        self._schemas = [get_schema(n.op_type) for n in graph.nodes]
        # For freeing intermediates: how many nodes still read each value.
        self._readers: dict[str, int] = {}
        for node in graph.nodes:
            for v in node.inputs:
                if v is not None and not v.is_const:
                    self._readers[v.name] = self._readers.get(v.name, 0) + 1

    def run(
        self,
        inputs: Mapping[str, npt.ArrayLike],
        *,
        dump_all: bool = False,
        observer: NodeObserver | None = None,
    ) -> dict[str, Array]:
        """Execute the graph.

        Returns the graph outputs by name, or with ``dump_all`` every tensor (inputs
        and every node output), keyed by IR value name like TPU-MLIR's npz dumps.
        Without ``dump_all`` intermediates are freed as soon as their last reader
        ran, so memory stays near the model's peak live set.
        """
        graph = self.module.graph
        env: dict[str, Array] = {}
        for v in graph.inputs:
            if v.name not in inputs:
                raise SophonError(
                    f"missing input '{v.name}'; the model's inputs are: "
                    + ", ".join(i.name for i in graph.inputs)
                )
            arr = np.asarray(inputs[v.name])
            if v.type.shape is not None and tuple(arr.shape) != v.type.shape:
                raise ShapeError(
                    f"input '{v.name}' has shape {list(arr.shape)} but the model expects "
                    f"{list(v.type.shape)}"
                )
            env[v.name] = arr.astype(numpy_dtype(v.dtype), copy=False)
        remaining = dict(self._readers)
        keep = {v.name for v in graph.outputs}
        for node, schema in zip(graph.nodes, self._schemas, strict=True):
            args: list[Array | None] = []
            for arg in node.inputs:
                if arg is None:
                    args.append(None)
                elif arg.const is not None:
                    args.append(arg.const)
                else:
                    args.append(env[arg.name])
            try:
                results = list(schema.kernel(node, args))
            except SophonError:
                raise
            except Exception as exc:
                raise SophonError(
                    f"{node.op_type} '{node.name}' failed in the reference interpreter: {exc}"
                ) from exc
            for out, arr in zip(node.outputs, results, strict=True):
                env[out.name] = arr
            if observer is not None:
                observer(node, results)
            if not dump_all:
                for read in node.inputs:
                    if read is None or read.is_const:
                        continue
                    remaining[read.name] -= 1
                    if remaining[read.name] == 0 and read.name not in keep:
                        del env[read.name]
        result: dict[str, Array] = {}
        if dump_all:
            result.update(env)
        for v in graph.outputs:
            result[v.name] = v.const if v.const is not None else env[v.name]
        return result
