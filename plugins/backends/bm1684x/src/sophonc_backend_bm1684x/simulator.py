"""The BM1684X simulator: runs a bmodel from its bytes, through device memory.

The program is decoded from the container, the context region becomes a byte
array of ``ctx_size``, inputs are written at their addresses, and every node
reads its operands from memory (weights from the coefficient data), runs its
chip kernel and writes its results back at their addresses. Because values that
do not live at the same time share bytes, a placement or encoding bug corrupts
results instead of going unnoticed; agreement with the interpreted program is
bit-exact when both are right.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from sophonc.errors import SophonError
from sophonc.ir.types import numpy_dtype
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.codegen.container import read_program
from sophonc_backend_bm1684x.codegen.memory import CTX
from sophonc_backend_bm1684x.program.executor import Arrays, feed_inputs, report, run_node
from sophonc_backend_bm1684x.program.registry import Array


class DeviceMemory:
    """The context region, with typed views of the values placed in it."""

    def __init__(self, size: int, slots: Mapping[str, tuple[int, int, int]]) -> None:
        self.bytes = np.zeros(max(size, 1), dtype=np.uint8)
        self.slots = slots

    def _view(self, value: Value) -> Array:
        region, offset, size = self.slots[value.name]
        if region != CTX:
            raise SophonError(f"'{value.name}' is not in the context region")
        dtype = numpy_dtype(value.dtype)
        if offset + size > self.bytes.size or size != value.type.numel * dtype.itemsize:
            raise SophonError(f"'{value.name}' does not fit its place in device memory")
        return self.bytes[offset : offset + size].view(dtype).reshape(value.shape)

    def read(self, value: Value) -> Array:
        """A copy of the value's bytes as an array of its type."""
        if value.const is not None:
            return np.asarray(value.const)
        return self._view(value).copy()

    def write(self, value: Value, data: npt.ArrayLike) -> None:
        """Store ``data`` (already in the value's storage type) at its place."""
        arr = np.asarray(data)
        if arr.shape != value.shape:
            raise SophonError(
                f"'{value.name}' got shape {list(arr.shape)}, expected {list(value.shape)}"
            )
        self._view(value)[...] = arr.astype(numpy_dtype(value.dtype), copy=False)


def simulate(
    data: bytes,
    inputs: Mapping[str, npt.ArrayLike],
    *,
    dump_all: bool = False,
    raw: bool = False,
    source: str = "<bmodel>",
) -> Arrays:
    """Run bmodel bytes; outputs (every value with ``dump_all``) in f32 unless ``raw``."""
    decoded = read_program(data, source)
    program = decoded.program
    graph = program.graph
    ctx_size = max(
        (off + size for region, off, size in decoded.slots.values() if region == CTX), default=0
    )
    memory = DeviceMemory(ctx_size, decoded.slots)
    for v, arr in zip(graph.inputs, feed_inputs(program, inputs).values(), strict=True):
        memory.write(v, arr)
    dumped: Arrays = {}
    if dump_all:
        for v in graph.inputs:
            dumped[v.name] = memory.read(v)
    for node in graph.nodes:
        args: list[Array | None] = [None if v is None else memory.read(v) for v in node.inputs]
        results = run_node(node, args)
        for out, arr in zip(node.outputs, results, strict=True):
            memory.write(out, arr)
            if dump_all:
                dumped[out.name] = memory.read(out)
    stored: Arrays = dumped
    for v in graph.outputs:
        stored[v.name] = memory.read(v)
    if raw:
        return stored
    return report(graph.values(), stored)
