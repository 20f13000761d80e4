"""Device-memory placement: liveness-based sharing of the context region, weights
packed in the coefficient region.

Lifetimes are recomputed here from their definition (a value lives from the node
that writes it, or from the start for a net input, to the last node that reads it,
or to the end for a net output) and every pair of values is checked, on seeded
random DAG programs and on lowered models.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.ir.types import numpy_dtype
from sophonc_backend_bm1684x.codegen.memory import COEFF, CTX, Placement, plan_memory

DTYPES = ("i8", "u8", "f16", "bf16", "f32", "i32")
ALIGN = 64


def _shape(rng: np.random.Generator, high: int) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(1, high, size=int(rng.integers(1, 4))))


def random_program(seed: int) -> Module:
    """A random DAG: 1-3 inputs, 1-16 nodes reading 1-3 earlier values (sometimes the
    same one twice, sometimes a weight), 1-2 outputs each; 1-3 net outputs picked from
    every value (net inputs and intermediates with later readers included)."""
    rng = np.random.default_rng(seed)
    defined: list[Value] = []
    inputs = []
    for i in range(int(rng.integers(1, 4))):
        v = Value(f"in{i}", TensorType(str(rng.choice(DTYPES)), _shape(rng, 7)))
        inputs.append(v)
        defined.append(v)
    nodes = []
    shared: Value | None = None
    for n in range(int(rng.integers(1, 17))):
        picks = rng.integers(0, len(defined), size=int(rng.integers(1, 4)))
        args: list[Value | None] = [defined[int(j)] for j in picks]
        if rng.random() < 0.3:
            data = rng.integers(-9, 9, size=_shape(rng, 9)).astype(str(rng.choice(["int8", "f4"])))
            args.append(Value.weight(f"w{n}", data))
        if shared is not None and rng.random() < 0.2:
            args.append(shared)  # one weight read by several nodes
        if rng.random() < 0.1:
            args.append(None)  # an omitted optional input
        if shared is None and rng.random() < 0.3:
            shared = Value.weight("shared", rng.normal(size=(5, 3)).astype(np.float32))
        outs = [
            Value(f"v{n}_{k}", TensorType(str(rng.choice(DTYPES)), _shape(rng, 10)))
            for k in range(int(rng.integers(1, 3)))
        ]
        nodes.append(Node("Move", args, outs))
        defined.extend(outs)
    count = int(rng.integers(1, 4))
    picked = sorted({int(j) for j in rng.integers(0, len(defined), size=count)})
    outputs = [defined[j] for j in picked]
    return Module(f"random{seed}", Graph(f"random{seed}", inputs, outputs, nodes))


def lifetimes(program: Module) -> dict[str, tuple[int, int]]:
    """value name -> (first node index, last node index); -1 = before the first node,
    len(nodes) = after the last."""
    graph = program.graph
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for v in graph.inputs:
        first[v.name] = last[v.name] = -1
    for i, node in enumerate(graph.nodes):
        for v in node.inputs:
            if v is not None and v.const is None:
                last[v.name] = i
        for out in node.outputs:
            first[out.name] = last[out.name] = i
    for v in graph.outputs:
        if v.const is None:
            last[v.name] = len(graph.nodes)
    return {name: (first[name], last[name]) for name in first}


def nbytes(v: Value) -> int:
    return v.type.numel * numpy_dtype(v.dtype).itemsize


def check_placement(program: Module, placement: Placement) -> None:
    graph = program.graph
    values = graph.values()
    life = lifetimes(program)
    # every activation in the context region, with its size, aligned
    for name in life:
        region, offset, size = placement.slots[name]
        assert region == CTX, name
        assert offset % ALIGN == 0, (name, offset)
        assert size == nbytes(values[name]), name
        assert offset + size <= placement.ctx_size, name
    assert placement.ctx_size % ALIGN == 0
    # overlapping lifetimes → disjoint bytes
    names = sorted(life)
    for i, a in enumerate(names):
        _, oa, sa = placement.slots[a]
        fa, la = life[a]
        for b in names[i + 1 :]:
            _, ob, sb = placement.slots[b]
            fb, lb = life[b]
            if la < fb or lb < fa:
                continue
            assert oa + sa <= ob or ob + sb <= oa, f"{a} {life[a]} and {b} {life[b]} share bytes"
    # a net output shares no byte with anything still live once it is written
    end = len(graph.nodes)
    for out in graph.outputs:
        if out.const is not None:
            continue
        f_out, l_out = life[out.name]
        assert l_out == end
        _, oo, so = placement.slots[out.name]
        for name, (_, last) in life.items():
            if name == out.name or last < f_out:
                continue
            _, o, s = placement.slots[name]
            assert oo + so <= o or o + s <= oo, f"net output {out.name} overlaps {name}"
    # weights: packed, aligned, disjoint, bytes as given
    weights = graph.weights()
    assert [n for n, _, _ in placement.coeff_names] == [w.name for w in weights]
    spans = []
    for w in weights:
        region, offset, size = placement.slots[w.name]
        assert region == COEFF
        assert offset % ALIGN == 0
        assert (w.name, offset, size) in placement.coeff_names
        raw = np.ascontiguousarray(w.const).tobytes()
        assert size == len(raw)
        assert placement.coeff[offset : offset + size] == raw
        spans.append((offset, offset + size))
    spans.sort()
    for (_, hi), (lo, _) in itertools.pairwise(spans):
        assert hi <= lo
    assert len(placement.coeff) == (spans[-1][1] if spans else 0)


@pytest.mark.parametrize("seed", range(300))
def test_random_programs_place_live_values_apart(seed: int) -> None:
    program = random_program(seed)
    placement = plan_memory(program)
    check_placement(program, placement)


def test_the_check_catches_live_values_sharing_bytes() -> None:
    # The checker itself: every activation of a chain forced to offset 0 must fail it.
    program = random_program(5)
    good = plan_memory(program)
    assert len(program.graph.nodes) > 1
    bad_slots = {
        name: (region, 0 if region == CTX else offset, size)
        for name, (region, offset, size) in good.slots.items()
    }
    bad = Placement(bad_slots, good.ctx_size, good.coeff, good.coeff_names)
    with pytest.raises(AssertionError, match="share bytes"):
        check_placement(program, bad)


@pytest.mark.parametrize("seed", range(0, 300, 7))
def test_placement_is_deterministic(seed: int) -> None:
    program = random_program(seed)
    first = plan_memory(program)
    assert plan_memory(program) == first
    assert plan_memory(random_program(seed)) == first


def test_a_chain_reuses_dead_bytes() -> None:
    # a → b → c, 64 bytes each. Lifetimes: a [-1, 0], b [0, 1], c [1, end = 2].
    # a at 0; b meets a at node 0 → 64; c meets b at node 1 but not a → 0 again.
    t = TensorType("i8", (64,))
    a = Value("a", t)
    n0 = Node("Move", [a], [Value("b", t)])
    n1 = Node("Move", [n0.output], [Value("c", t)])
    program = Module("chain", Graph("chain", [a], [n1.output], [n0, n1]))
    placement = plan_memory(program)
    assert placement.slots == {"a": (CTX, 0, 64), "b": (CTX, 64, 64), "c": (CTX, 0, 64)}
    assert placement.ctx_size == 128
    assert placement.coeff == b""


def test_sizes_round_up_to_the_alignment() -> None:
    # 3 f32 = 12 bytes, reserved as 64; a 65-byte u8 value reserves 128.
    x = Value("x", TensorType("f32", (3,)))
    n0 = Node("Move", [x], [Value("y", TensorType("u8", (65,)))])
    n1 = Node("Move", [x, n0.output], [Value("z", TensorType("f16", (1,)))])
    program = Module("sizes", Graph("sizes", [x], [n1.output], [n0, n1]))
    placement = plan_memory(program)
    # x lives to node 1: x at 0 (12 bytes), y at 64 (65 bytes), z meets both → 64 + 128
    assert placement.slots == {"x": (CTX, 0, 12), "y": (CTX, 64, 65), "z": (CTX, 192, 2)}
    assert placement.ctx_size == 256


def test_weights_are_packed_at_aligned_offsets() -> None:
    x = Value("x", TensorType("f32", (2,)))
    w1 = Value.weight("w1", np.arange(5, dtype=np.int8))
    w2 = Value.weight("w2", np.array([1.5, -2.0], np.float32))
    node = Node("Move", [x, w1, w2, w1], [Value("y", TensorType("f32", (2,)))])
    program = Module("w", Graph("w", [x], [node.output], [node]))
    placement = plan_memory(program)
    # w1: 5 bytes at 0; w2 at the next multiple of 64 → 64, 8 bytes; zero filler between
    assert placement.slots["w1"] == (COEFF, 0, 5)
    assert placement.slots["w2"] == (COEFF, 64, 8)
    assert placement.coeff_names == (("w1", 0, 5), ("w2", 64, 8))
    want = bytes([0, 1, 2, 3, 4]) + bytes(59) + np.array([1.5, -2.0], np.float32).tobytes()
    assert placement.coeff == want


@pytest.mark.parametrize("mode", ["INT8", "F16", "F32"])
def test_lowered_programs_place_live_values_apart(mode: str, models: Any, flow: Any) -> None:
    for build in (models.conv_net, models.onnx_net, models.filter_net, models.deconv_net):
        program = flow.program(build, 3, mode)
        placement = plan_memory(program)
        check_placement(program, placement)
        assert plan_memory(flow.program(build, 3, mode)) == placement
