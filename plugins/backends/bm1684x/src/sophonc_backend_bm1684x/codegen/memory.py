"""Device-memory placement: weights packed in the coefficient region, activations
sharing the context region by liveness.

Two activations may share bytes only when their lifetimes (from the node that
writes one to the last node that reads it) do not overlap; net inputs live from
the start and net outputs to the end. Placement is first-fit in definition order,
which is deterministic, so the same program always gets the same addresses. A
node's outputs never overlap its inputs (their lifetimes meet at that node).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sophonc.ir.module import Module
from sophonc.ir.types import numpy_dtype
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.target import TENSOR_ALIGNMENT

CTX = 0
COEFF = 1


def align(n: int, to: int = TENSOR_ALIGNMENT) -> int:
    """``n`` rounded up to a multiple of ``to``."""
    return -(-n // to) * to


def byte_size(value: Value) -> int:
    """Bytes a value occupies in device memory."""
    return value.type.numel * int(numpy_dtype(value.dtype).itemsize)


@dataclass(frozen=True)
class Placement:
    """Where every program value lives: (region, offset within region, bytes)."""

    slots: dict[str, tuple[int, int, int]]
    ctx_size: int
    coeff: bytes
    coeff_names: tuple[tuple[str, int, int], ...]


def _pack_weights(
    program: Module,
) -> tuple[dict[str, tuple[int, int, int]], bytes, list[tuple[str, int, int]]]:
    slots: dict[str, tuple[int, int, int]] = {}
    chunks: list[bytes] = []
    names: list[tuple[str, int, int]] = []
    offset = 0
    for w in program.graph.weights():
        data = np.ascontiguousarray(np.asarray(w.const).astype(numpy_dtype(w.dtype), copy=False))
        raw = data.tobytes()
        start = align(offset)
        chunks.append(b"\0" * (start - offset))
        chunks.append(raw)
        offset = start + len(raw)
        slots[w.name] = (COEFF, start, len(raw))
        names.append((w.name, start, len(raw)))
    return slots, b"".join(chunks), names


def _lifetimes(program: Module) -> list[tuple[Value, int, int]]:
    graph = program.graph
    end = len(graph.nodes)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    order: list[Value] = []
    for v in graph.inputs:
        first[id(v)] = -1
        last[id(v)] = -1
        order.append(v)
    for i, node in enumerate(graph.nodes):
        for read in node.inputs:
            if read is not None and read.const is None:
                last[id(read)] = max(last.get(id(read), i), i)
        for out in node.outputs:
            first[id(out)] = i
            last.setdefault(id(out), i)
            order.append(out)
    for res in graph.outputs:
        if res.const is None:
            last[id(res)] = end
    return [(v, first[id(v)], last[id(v)]) for v in order]


def plan_memory(program: Module) -> Placement:
    """Addresses for every value of ``program`` (see the module docstring)."""
    slots, coeff, names = _pack_weights(program)
    placed: list[tuple[int, int, int, int]] = []  # (offset, size, first, last)
    ctx_size = 0
    for value, first, last in _lifetimes(program):
        size = align(max(byte_size(value), 1))
        busy = sorted(
            (off, off + sz) for off, sz, start, end in placed if not (end < first or start > last)
        )
        offset = 0
        for lo, hi in busy:
            if offset + size <= lo:
                break
            offset = max(offset, hi)
        placed.append((offset, size, first, last))
        slots[value.name] = (CTX, offset, byte_size(value))
        ctx_size = max(ctx_size, offset + size)
    return Placement(slots, ctx_size, coeff, tuple(names))
