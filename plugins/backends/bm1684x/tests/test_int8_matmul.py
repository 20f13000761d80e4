"""INT8 MatMul on BM1684X: parameters and integers by hand, accuracy, simulator.

Hand cases set the quantized types themselves and work every number out in the
comments from TPU-MLIR's rules: weights ``round_half_away(W / scale)``, bias
``round_half_away(b / (s_a·s_w))``, ``scale_and_shift`` (the float32 ratio's
mantissa and exponent when it is exact in 24 bits and the shift is ≤ 30), and
``RightShiftRound`` HALF_UP ``= floor(v / 2^s + 1/2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from sophonc.api import DeployOptions
from sophonc.ir import Graph, Module, Node, QuantType, TensorType, Value
from sophonc.passes import canonicalize
from sophonc_backend_bm1684x.backend import BM1684XBackend
from sophonc_backend_bm1684x.lowering.lower import lower_module
from sophonc_backend_bm1684x.program.executor import run_program

RANGES = {"i8": (-128, 127), "u8": (0, 255)}


def quant(storage: str, scale: float) -> QuantType:
    """Symmetric per-tensor type (zero point 0)."""
    lo, hi = RANGES[storage]
    return QuantType(storage, (scale,), (0,), qmin=lo, qmax=hi)


def matmul_module(a: Value, b: Value, bias: Value | None = None, do_relu: bool = False) -> Module:
    """One top-level MatMul ``y_MatMul``, shapes inferred by canonicalize."""
    inputs = [v for v in (a, b) if v.const is None]
    attrs = {"do_relu": True} if do_relu else {}
    node = Node("MatMul", [a, b, bias], ["y_MatMul"], attrs)
    return canonicalize(Module("mm", Graph("mm", inputs, [node.output], [node])))


def mark_int8(module: Module, quants: dict[str, QuantType]) -> None:
    """Give values hand-chosen quantized types and every node precision INT8."""
    for v in [*module.graph.inputs, *(o for n in module.graph.nodes for o in n.outputs)]:
        if v.name in quants:
            v.quant = quants[v.name]
    for n in module.graph.nodes:
        n.output.meta["precision"] = "INT8"


def program_node(program: Module, op_type: str) -> Node:
    """The single program node of ``op_type``."""
    (node,) = [n for n in program.graph.nodes if n.op_type == op_type]
    return node


def stored(program: Module, feeds: dict[str, Any], name: str) -> npt.NDArray[Any]:
    """The stored integers of program value ``name``."""
    return run_program(program, feeds, dump_all=True, raw=True)[name]


def const_of(node: Node, index: int) -> npt.NDArray[Any]:
    """The data of a node's weight input."""
    value = node.input(index)
    assert value.const is not None
    return value.const


def f32_mantissa_shift(ratio: float) -> tuple[int, int]:
    """``(m, s)`` with ``float32(ratio) = m / 2^s`` and ``m`` odd: what ``scale_and_shift``
    returns when the shift is at most 30 (the first exact candidate wins)."""
    mant, exp = np.frexp(np.float64(np.float32(ratio)))
    m, s = int(mant * 2**24), 24 - int(exp)
    while m % 2 == 0:
        m, s = m // 2, s - 1
    assert s <= 30
    return m, s


def half_up_shift(v: int, m: int, s: int) -> int:
    """``RightShiftRound(v·m, s, HALF_UP)`` on Python integers."""
    return (v * m + (1 << (s - 1))) >> s


# ----------------------------------------------------------------------- by hand
def test_activation_times_activation_by_hand() -> None:
    # a = [1.5, -2.5] at scale 0.5 -> codes [3, -5]; b at scale 0.25 -> [[2, 1], [4, -7]].
    a = Value("a", TensorType("f32", (1, 2)))
    b = Value("b", TensorType("f32", (2, 2)))
    module = matmul_module(a, b)
    mark_int8(
        module, {"a": quant("i8", 0.5), "b": quant("i8", 0.25), "y_MatMul": quant("i8", 0.75)}
    )
    program = lower_module(module, "INT8")
    node = program_node(program, "MatMul")
    # ratio 0.5·0.25/0.75 = 1/6; float32(1/6) = 0x3E2AAAAB = 11184811 / 2^26 (odd mantissa),
    # so the first shift with zero error is 26.
    assert np.float32(1 / 6) == np.float32(11184811 / 2**26)
    assert const_of(node, 3).tolist() == [11184811]
    assert const_of(node, 4).tolist() == [26]
    # acc = [3·2 + (-5)·4, 3·1 + (-5)·(-7)] = [-14, 38]
    # y = floor(-14/6 + 1/2) = floor(-1.83) = -2 ; floor(38/6 + 1/2) = floor(6.83) = 6
    assert half_up_shift(-14, 11184811, 26) == -2 and half_up_shift(38, 11184811, 26) == 6
    feeds = {"a": np.array([[1.5, -2.5]], np.float32),
             "b": np.array([[0.5, 0.25], [1.0, -1.75]], np.float32)}  # fmt: skip
    assert stored(program, feeds, node.output.name).tolist() == [[-2, 6]]


def test_weight_per_column_with_bias_by_hand() -> None:
    x = Value("x", TensorType("f32", (1, 2)))
    w = Value.weight("w", np.array([[0.2, 0.1], [0.5, -0.7]], np.float32))
    bias = Value.weight("bias", np.array([0.05, -0.1], np.float32))
    module = matmul_module(x, w, bias)
    mark_int8(module, {"x": quant("i8", 0.5), "y_MatMul": quant("i8", 0.02)})
    program = lower_module(module, "INT8")
    node = program_node(program, "MatMul")
    # Per column (signed: has bias): scale0 = 0.5/127, scale1 = 0.7/127 (float32 weights).
    s0 = float(np.float32(0.5)) / 127
    s1 = float(np.float32(0.7)) / 127
    # col 0: 0.2/s0 = 50.8 -> 51, 0.5/s0 = 127 ; col 1: 0.1/s1 = 18.14 -> 18, -0.7/s1 = -127
    assert const_of(node, 1).tolist() == [[51, 18], [127, -127]]
    assert node.input(1).quant is None  # per-column scales live in the multipliers
    # bias: 0.05/(0.5·s0) = 25.4 -> 25 ; -0.1/(0.5·s1) = -36.29 -> -36
    assert const_of(node, 2).tolist() == [25, -36]
    m0, sh0 = f32_mantissa_shift(s0 * 0.5 / 0.02)
    m1, sh1 = f32_mantissa_shift(s1 * 0.5 / 0.02)
    assert const_of(node, 3).tolist() == [m0, m1]
    assert const_of(node, 4).tolist() == [sh0, sh1]
    # x codes [3, -5]: acc0 = 3·51 - 5·127 + 25 = -457 ; acc1 = 3·18 + 5·127 - 36 = 653
    # real re-scales 0.0984 and 0.1378: -457·0.0984 = -44.98 -> -45, 653·0.1378 = 89.98 -> 90
    expected = [half_up_shift(-457, m0, sh0), half_up_shift(653, m1, sh1)]
    assert expected == [-45, 90]
    feeds = {"x": np.array([[1.5, -2.5]], np.float32)}
    assert stored(program, feeds, node.output.name).tolist() == [expected]


def test_vector_dot_vector_with_bias_by_hand() -> None:
    # A 1-D weight has no columns: one scale, signed because of the bias, 0.5/127.
    x = Value("x", TensorType("f32", (2,)))
    w = Value.weight("w", np.array([0.2, 0.5], np.float32))
    bias = Value.weight("bias", np.array(0.05, np.float32))
    module = matmul_module(x, w, bias)
    mark_int8(module, {"x": quant("i8", 0.5), "y_MatMul": quant("i8", 0.02)})
    program = lower_module(module, "INT8")
    node = program_node(program, "MatMul")
    # codes 0.2/s = 50.8 -> 51, 127 ; bias 0.05/(0.5·s) = 25.4 -> 25 (one element)
    assert const_of(node, 1).tolist() == [51, 127] and const_of(node, 2).ravel().tolist() == [25]
    # x codes [3, -5]: acc = 153 - 635 + 25 = -457 -> -45 (as column 0 above); result 0-d
    out = stored(program, {"x": np.array([1.5, -2.5], np.float32)}, node.output.name)
    assert out.shape == () and int(out) == -45


def test_weight_on_the_left_is_per_tensor_uint8_by_hand() -> None:
    # All weights >= 0 and no bias: one uint8 scale 1.0/255; codes 0.2·255 = 51, 1.0 -> 255,
    # 0.4 -> 102, 0.6 -> 153.
    w = Value.weight("w", np.array([[0.2, 1.0], [0.4, 0.6]], np.float32))
    x = Value("x", TensorType("f32", (2, 1)))
    module = matmul_module(w, x)
    mark_int8(module, {"x": quant("i8", 0.5), "y_MatMul": quant("i8", 0.01)})
    program = lower_module(module, "INT8")
    node = program_node(program, "MatMul")
    lhs = node.input(0)
    assert lhs.dtype == "u8" and lhs.quant is not None and lhs.quant.scale[0] == 1.0 / 255
    assert const_of(node, 0).tolist() == [[51, 255], [102, 153]]
    # x = [2, -1] -> codes [4, -2]; acc = [51·4 - 255·2, 102·4 - 153·2] = [-306, 102]
    # ratio (1/255)·0.5/0.01 = 0.19607…: -306·0.19607 = -60.0, 102·0.19607 = 20.0 (to within
    # the float32 rounding of the ratio, far from a half)
    m, s = f32_mantissa_shift((1.0 / 255) * 0.5 / 0.01)
    assert (int(const_of(node, 3)[0]), int(const_of(node, 4)[0])) == (m, s)
    feeds = {"x": np.array([[2.0], [-1.0]], np.float32)}
    assert stored(program, feeds, node.output.name).tolist() == [[-60], [20]]


def test_fused_relu_clamps_at_zero_in_uint8() -> None:
    a = Value("a", TensorType("f32", (1, 2)))
    b = Value("b", TensorType("f32", (2, 2)))
    module = matmul_module(a, b, do_relu=True)
    mark_int8(
        module, {"a": quant("i8", 0.5), "b": quant("i8", 0.25), "y_MatMul": quant("u8", 0.75)}
    )
    program = lower_module(module, "INT8")
    node = program_node(program, "MatMul")
    # As the activation case: [-2, 6] before the ReLU; the ReLU makes -2 into 0.
    feeds = {"a": np.array([[1.5, -2.5]], np.float32),
             "b": np.array([[0.5, 0.25], [1.0, -1.75]], np.float32)}  # fmt: skip
    out = stored(program, feeds, node.output.name)
    assert out.dtype == np.uint8 and out.tolist() == [[0, 6]]


def test_long_reduction_stays_exact() -> None:
    # K = 8192: a codes all -127 (scale 0.5), b codes alternate 127 and 1 (scale 1).
    # acc = 4096·(-127·127) + 4096·(-127·1) = 4096·(-16256) = -66584576 = -63.5 · 2^20:
    # odd partial sums beyond 2^24, which a float32 accumulation would round.
    k = 8192
    a = Value("a", TensorType("f32", (1, k)))
    b = Value("b", TensorType("f32", (k, 1)))
    module = matmul_module(a, b)
    # ratio 0.5·1/2^19 = 2^-20 -> multiplier 1, shift 20
    mark_int8(module, {"a": quant("i8", 0.5), "b": quant("i8", 1.0),
                       "y_MatMul": quant("i8", 2.0**19)})  # fmt: skip
    program = lower_module(module, "INT8")
    node = program_node(program, "MatMul")
    assert (int(const_of(node, 3)[0]), int(const_of(node, 4)[0])) == (1, 20)
    b_real = np.where(np.arange(k) % 2 == 0, 127.0, 1.0).astype(np.float32).reshape(k, 1)
    feeds = {"a": np.full((1, k), -63.5, np.float32), "b": b_real}
    # HALF_UP on the tie: floor(-63.5 + 0.5) = -63
    assert stored(program, feeds, node.output.name).tolist() == [[-63]]


# ----------------------------------------------------------------------- declines
def test_non_constant_bias_or_missing_calibration_runs_in_float() -> None:
    a = Value("a", TensorType("f32", (2, 3)))
    b = Value("b", TensorType("f32", (3, 4)))
    bias = Value("c", TensorType("f32", (4,)))
    node = Node("MatMul", [a, b, bias], ["y_MatMul"])
    module = canonicalize(Module("mm", Graph("mm", [a, b, bias], [node.output], [node])))
    mark_int8(module, {"a": quant("i8", 0.1), "b": quant("i8", 0.1), "c": quant("i8", 0.1),
                       "y_MatMul": quant("i8", 0.1)})  # fmt: skip
    assert "FloatOp" in [n.op_type for n in lower_module(module, "INT8").graph.nodes]
    plain = matmul_module(
        Value("a", TensorType("f32", (2, 3))), Value("b", TensorType("f32", (3, 4)))
    )
    mark_int8(plain, {"a": quant("i8", 0.1), "y_MatMul": quant("i8", 0.1)})  # b uncalibrated
    ops = [n.op_type for n in lower_module(plain, "INT8").graph.nodes]
    assert "MatMul" not in ops and "FloatOp" in ops


# ---------------------------------------------------------------------- accuracy
def normal(rng: np.random.Generator, shape: Sequence[int], std: float) -> npt.NDArray[np.float32]:
    """Seeded normal weights."""
    return rng.normal(0.0, std, tuple(shape)).astype(np.float32)


def attention_net(seed: int) -> Module:
    """x[2,8,32] → Linear+ReLU → Linear q → Softmax(q·qᵀ)·q, and W0·q (weight on the left).

    The second Linear's columns span a 10× range of magnitudes, as trained layers do.
    """
    rng = np.random.default_rng(seed)
    x = Value("x", TensorType("f32", (2, 8, 32)))
    w1 = Value.weight("w1", normal(rng, (32, 48), 0.2))
    b1 = Value.weight("b1", normal(rng, (48,), 0.1))
    w2 = Value.weight(
        "w2", normal(rng, (48, 16), 0.1) * np.linspace(0.2, 2.0, 16, dtype=np.float32)
    )
    w0 = Value.weight("w0", normal(rng, (4, 8), 0.5))
    h = Node("MatMul", [x, w1, b1], ["h_MatMul"], {"do_relu": True})
    q = Node("MatMul", [h.output, w2], ["q_MatMul"])
    qt = Node("Transpose", [q.output], ["qt_Transpose"], {"perm": [0, 2, 1]})
    s = Node("MatMul", [q.output, qt.output], ["s_MatMul"])
    p = Node("Softmax", [s.output], ["p_Softmax"], {"axis": -1})
    o = Node("MatMul", [p.output, q.output], ["o_MatMul"])
    left = Node("MatMul", [w0, q.output], ["l_MatMul"])
    nodes = [h, q, qt, s, p, o, left]
    graph = Graph("attention_net", [x], [o.output, left.output], nodes)
    return canonicalize(Module("attention_net", graph))


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine similarity of two tensors in float64."""
    x = np.asarray(a, np.float64).ravel()
    y = np.asarray(b, np.float64).ravel()
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


@pytest.mark.parametrize("seed", [0, 1])
def test_int8_attention_matches_f32_and_simulator(seed: int, flow: Any) -> None:
    module = attention_net(seed)
    feeds = flow.samples(module, seed + 500, 1)[0]
    ref = flow.reference(module, feeds)
    program = flow.program(attention_net, seed, "INT8")
    ops = [n.op_type for n in program.graph.nodes]
    assert ops.count("MatMul") == 5 and ops.count("FloatOp") == 1  # the Softmax, F16
    got = run_program(program, feeds, dump_all=True)
    for name in ("h_MatMul", "q_MatMul", "s_MatMul", "o_MatMul", "l_MatMul"):
        assert cosine(got[name], ref[name]) >= 0.99, name
    backend = BM1684XBackend()
    data = backend.codegen(program, DeployOptions(quantize="INT8"))
    simulated = backend.simulate(data, feeds)
    interpreted = backend.run_program(program, feeds)
    assert simulated.keys() == interpreted.keys()
    for name, want in interpreted.items():
        assert np.array_equal(simulated[name], want), name
