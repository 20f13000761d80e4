"""Interpret a program: TPU-MLIR's ``tpu.mlir`` interpreter, for BM1684X.

Every node runs through its chip kernel on the values as the chip stores them.
Results are reported in f32 (quantized values dequantized, f16/bf16 widened),
keyed by value name, so they compare directly with the top-level module's dump.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt

from sophonc.errors import ShapeError, SophonError
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.program.registry import Array, chip_kernel
from sophonc_backend_bm1684x.program.storage import to_float32, to_storage

Arrays = dict[str, Array]
#: ``observer(node, stored_results)`` after each node (the simulator's dump hook).
Observer = Callable[[Node, list[Array]], None]


def feed_inputs(program: Module, inputs: Mapping[str, npt.ArrayLike]) -> Arrays:
    """The program's graph inputs in their storage form, checked by name and shape."""
    env: Arrays = {}
    for v in program.graph.inputs:
        if v.name not in inputs:
            raise SophonError(
                f"missing input '{v.name}'; the model's inputs are: "
                + ", ".join(i.name for i in program.graph.inputs)
            )
        arr = np.asarray(inputs[v.name])
        if v.type.shape is not None and tuple(arr.shape) != v.type.shape:
            raise ShapeError(
                f"input '{v.name}' has shape {list(arr.shape)} but the model expects "
                f"{list(v.type.shape)}"
            )
        env[v.name] = to_storage(arr, v.dtype)
    return env


def run_node(node: Node, args: list[Array | None]) -> list[Array]:
    """One node's kernel, with failures named."""
    try:
        return list(chip_kernel(node.op_type)(node, args))
    except SophonError:
        raise
    except Exception as exc:
        raise SophonError(
            f"{node.op_type} '{node.name}' failed in the BM1684X program interpreter: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def report(values: Mapping[str, Value], stored: Mapping[str, Array]) -> Arrays:
    """Stored arrays turned into what they mean, in f32 (integers that are not
    quantized, such as indices, are kept as they are)."""
    out: Arrays = {}
    for name, data in stored.items():
        v = values[name]
        if v.quant is not None or v.dtype in ("f32", "f16", "bf16"):
            out[name] = to_float32(v, data)
        else:
            out[name] = data
    return out


def run_program(
    program: Module,
    inputs: Mapping[str, npt.ArrayLike],
    *,
    dump_all: bool = False,
    raw: bool = False,
) -> Arrays:
    """Execute ``program``; outputs (or, with ``dump_all``, every value) by name.

    With ``raw`` the stored arrays are returned (int8 codes, f16, …) instead of
    their f32 meaning.
    """
    graph = program.graph
    env = feed_inputs(program, inputs)
    readers: dict[str, int] = {}
    for node in graph.nodes:
        for v in node.inputs:
            if v is not None and v.const is None:
                readers[v.name] = readers.get(v.name, 0) + 1
    keep = {v.name for v in graph.outputs}
    for node in graph.nodes:
        args: list[Array | None] = [
            None if v is None else (v.const if v.const is not None else env[v.name])
            for v in node.inputs
        ]
        for out, arr in zip(node.outputs, run_node(node, args), strict=True):
            env[out.name] = arr
        if dump_all:
            continue
        for v in node.inputs:
            if v is None or v.const is not None:
                continue
            readers[v.name] -= 1
            if readers[v.name] == 0 and v.name not in keep:
                del env[v.name]
    stored: Arrays = dict(env) if dump_all else {}
    for v in graph.outputs:
        stored[v.name] = v.const if v.const is not None else env[v.name]
    if raw:
        return stored
    return report(graph.values(), stored)
