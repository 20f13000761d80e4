"""INT8 AveragePool, GlobalAveragePool, ReduceMean and ReduceSum on BM1684X.

Hand cases choose scales whose re-scale ``in_scale / (out_scale · count)`` is a
power of two or a short float32, so ``scale_and_shift`` gives numbers one can
check on paper: the first shift ``n`` (from -32 up) with ``round(f·2^n) / 2^n``
exactly ``f``. ``RightShiftRound`` HALF_UP is ``floor(v / 2^s + 1/2)``; a
negative shift is a left shift.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from sophonc.api import DeployOptions
from sophonc.interp import Interpreter
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


def one_op(op_type: str, shape: Sequence[int], attrs: dict[str, Any]) -> Module:
    """A top-level module of one ``op_type`` node on input ``x``, output ``y``."""
    x = Value("x", TensorType("f32", tuple(shape)))
    node = Node(op_type, [x], [f"y_{op_type}"], attrs)
    return canonicalize(Module("one", Graph("one", [x], [node.output], [node])))


def lowered(module: Module, in_scale: float, out_scale: float, out_storage: str = "i8") -> Module:
    """``module`` with hand-chosen quantized types, every node INT8, lowered."""
    module.graph.inputs[0].quant = quant("i8", in_scale)
    for n in module.graph.nodes:
        n.output.quant = quant(out_storage, out_scale)
        n.output.meta["precision"] = "INT8"
    return lower_module(module, "INT8")


def the_node(program: Module, op_type: str) -> Node:
    """The single program node of ``op_type``."""
    (node,) = [n for n in program.graph.nodes if n.op_type == op_type]
    return node


def stored(program: Module, x: npt.ArrayLike, name: str) -> npt.NDArray[Any]:
    """The stored integers of program value ``name`` for input ``x``."""
    feeds = {"x": np.asarray(x, dtype=np.float32)}
    return run_program(program, feeds, dump_all=True, raw=True)[name]


def const_of(node: Node, index: int) -> npt.NDArray[Any]:
    """The data of a node's weight input."""
    value = node.input(index)
    assert value.const is not None
    return value.const


def assert_within_half_step(
    module: Module, x: npt.ArrayLike, got: npt.ArrayLike, step: float
) -> None:
    """The integers, times the output scale, are the F32 op's result rounded to a step:
    so the hand semantics (counts, pads, overhang) are the core op's."""
    (name,) = [v.name for v in module.graph.outputs]
    ref = np.asarray(Interpreter(module).run({"x": np.asarray(x, np.float32)})[name], np.float64)
    assert np.abs(np.asarray(got) * step - ref).max() <= step / 2 + 1e-6


CODES = np.array([[1, -2, 3], [4, 5, -9], [-7, 8, 13]])


# ----------------------------------------------------------------------- by hand
def test_average_pool_border_counts_by_hand() -> None:
    # 2×2 windows, stride 1, one padded row and column at the start, pads not counted:
    # the corner window holds 1 real element, the first row/column 2, the rest 4.
    attrs = {"kernel_shape": [2, 2], "pads": [1, 1, 0, 0], "count_include_pad": 0}
    module = one_op("AveragePool", (1, 1, 3, 3), attrs)
    program = lowered(module, 0.5, 0.25)
    node = the_node(program, "AveragePool")
    # in/out = 2, so ratio 2/count: count 1 -> 2 = 1·2^1 (shift -1), count 2 -> 1 (shift 0),
    # count 4 -> 1/2 (shift 1); every multiplier is 1.
    assert const_of(node, 1).tolist() == [[[[1, 1, 1], [1, 1, 1], [1, 1, 1]]]]
    assert const_of(node, 2).tolist() == [[[[-1, 0, 0], [0, 1, 1], [0, 1, 1]]]]
    # codes 1 -2 3 / 4 5 -9 / -7 8 13 (x = codes · 0.5). Window sums and results:
    #   1 (c1)·2 = 2       1-2 = -1 (c2) = -1      -2+3 = 1 (c2) = 1
    #   1+4 = 5 (c2) = 5   1-2+4+5 = 8 -> 4        -2+3+5-9 = -3 -> floor(-1.5+.5) = -1
    #   4-7 = -3 (c2)      4+5-7+8 = 10 -> 5       5-9+8+13 = 17 -> floor(8.5+.5) = 9
    got = stored(program, CODES.reshape(1, 1, 3, 3) * 0.5, node.output.name)
    assert got.tolist() == [[[[2, -1, 1], [5, 4, -1], [-3, 5, 9]]]]
    assert_within_half_step(module, CODES.reshape(1, 1, 3, 3) * 0.5, got, 0.25)


def test_average_pool_counting_pads_has_one_multiplier() -> None:
    attrs = {"kernel_shape": [2, 2], "pads": [1, 1, 0, 0], "count_include_pad": 1}
    module = one_op("AveragePool", (1, 1, 3, 3), attrs)
    program = lowered(module, 0.5, 0.25)
    node = the_node(program, "AveragePool")
    # Every window divides by 4: ratio 1/2 -> (1, 1).
    assert const_of(node, 1).tolist() == [1] and const_of(node, 2).tolist() == [1]
    # sums 1 -1 1 / 5 8 -3 / -3 10 17 halved, HALF_UP: 1 0 1 / 3 4 -1 / -1 5 9
    # (0.5 -> 1, -0.5 -> 0, 2.5 -> 3, -1.5 -> -1, 8.5 -> 9)
    got = stored(program, CODES.reshape(1, 1, 3, 3) * 0.5, node.output.name)
    assert got.tolist() == [[[[1, 0, 1], [3, 4, -1], [-1, 5, 9]]]]
    assert_within_half_step(module, CODES.reshape(1, 1, 3, 3) * 0.5, got, 0.25)


def test_ceil_mode_overhang_never_counts() -> None:
    # Width 3, windows of 2 with stride 2 in ceil mode: the second window is column 2 plus
    # an overhang column, which is not counted even with count_include_pad.
    module = one_op("AveragePool", (1, 1, 1, 3),
                    {"kernel_shape": [1, 2], "strides": [1, 2], "ceil_mode": 1,
                     "count_include_pad": 1})  # fmt: skip
    program = lowered(module, 0.5, 0.5)
    node = the_node(program, "AveragePool")
    # ratio 1/count: count 2 -> (1, 1), count 1 -> (1, 0)
    assert const_of(node, 1).tolist() == [[[[1, 1]]]]
    assert const_of(node, 2).tolist() == [[[[1, 0]]]]
    # codes 2 4 7: (2+4)/2 = 3, 7/1 = 7
    got = stored(program, np.array([[[[1.0, 2.0, 3.5]]]]), node.output.name)
    assert got.tolist() == [[[[3, 7]]]]
    assert_within_half_step(module, np.array([[[[1.0, 2.0, 3.5]]]]), got, 0.5)


def test_global_average_pool_by_hand() -> None:
    module = one_op("GlobalAveragePool", (1, 2, 2, 2), {})
    program = lowered(module, 0.5, 0.1)
    node = the_node(program, "ReduceSum")
    # ratio 0.5/(0.1·4) = 1.25 = 5/2^2: (5, 2)
    assert (node.int("multiplier"), node.int("shift")) == (5, 2)
    # channel 0 codes 1 2 3 4: sum 10 -> floor(50/4 + 1/2) = 13
    # channel 1 codes -1 -2 -3 -5: sum -11 -> floor(-55/4 + 1/2) = floor(-13.25) = -14
    x = np.array([[1, 2, 3, 4], [-1, -2, -3, -5]], np.float32).reshape(1, 2, 2, 2) * 0.5
    assert stored(program, x, node.output.name).tolist() == [[[[13]], [[-14]]]]


def test_reduce_mean_and_sum_by_hand() -> None:
    mean = one_op("ReduceMean", (1, 2, 3), {"axes": [2], "keepdims": 0})
    program = lowered(mean, 0.75, 0.5)
    node = the_node(program, "ReduceSum")
    # ratio 0.75/(0.5·3) = 1/2: (1, 1). Rows 3 -4 8 (sum 7) and 1 1 2 (sum 4):
    # floor(3.5 + .5) = 4, floor(2 + .5) = 2
    assert (node.int("multiplier"), node.int("shift")) == (1, 1)
    x = np.array([[[3, -4, 8], [1, 1, 2]]], np.float32) * 0.75
    assert stored(program, x, node.output.name).tolist() == [[4, 2]]
    total = one_op("ReduceSum", (1, 2, 3), {"axes": [], "keepdims": 1})
    program = lowered(total, 0.75, 3.0)
    node = the_node(program, "ReduceSum")
    # every axis; ratio 0.75/3 = 1/4: (1, 2). Sum 11 -> floor(2.75 + .5) = 3
    assert (node.int("multiplier"), node.int("shift")) == (1, 2)
    assert stored(program, x, node.output.name).tolist() == [[[3]]]


def test_fused_relu_on_average_pool() -> None:
    module = one_op("AveragePool", (1, 1, 3, 3),
                    {"kernel_shape": [2, 2], "pads": [1, 1, 0, 0], "do_relu": True})  # fmt: skip
    program = lowered(module, 0.5, 0.25, "u8")
    node = the_node(program, "AveragePool")
    # as the border-count case with negatives clamped to 0
    got = stored(program, CODES.reshape(1, 1, 3, 3) * 0.5, node.output.name)
    assert got.dtype == np.uint8 and got.tolist() == [[[[2, 0, 1], [5, 4, 0], [0, 5, 9]]]]


def test_uncalibrated_output_runs_in_float() -> None:
    module = one_op("ReduceMean", (1, 2, 3), {"axes": [2]})
    module.graph.inputs[0].quant = quant("i8", 0.1)
    module.graph.nodes[0].output.meta["precision"] = "INT8"
    ops = [n.op_type for n in lower_module(module, "INT8").graph.nodes]
    assert ops == ["FloatOp"]


# ---------------------------------------------------------------------- accuracy
def pool_net(seed: int) -> Module:
    """x[1,8,12,11] → Relu → AveragePool 3×3/2 (pads, ceil mode, pads not counted) →
    GlobalAveragePool; ReduceMean over channels; ReduceSum over the spatial axes."""
    del seed  # no weights: the samples carry the randomness
    x = Value("x", TensorType("f32", (1, 8, 12, 11)))
    relu = Node("Relu", [x], ["r_Relu"])
    pool = Node("AveragePool", [relu.output], ["p_AveragePool"],
                {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1],
                 "ceil_mode": 1, "count_include_pad": 0})  # fmt: skip
    gap = Node("GlobalAveragePool", [pool.output], ["g_GlobalAveragePool"])
    mean = Node("ReduceMean", [x], ["m_ReduceMean"], {"axes": [1], "keepdims": 0})
    total = Node("ReduceSum", [x], ["s_ReduceSum"], {"axes": [2, 3], "keepdims": 1})
    nodes = [relu, pool, gap, mean, total]
    outputs = [pool.output, gap.output, mean.output, total.output]
    return canonicalize(Module("pool_net", Graph("pool_net", [x], outputs, nodes)))


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cosine similarity of two tensors in float64."""
    x = np.asarray(a, np.float64).ravel()
    y = np.asarray(b, np.float64).ravel()
    return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))


@pytest.mark.parametrize("seed", [0, 1])
def test_int8_pools_match_f32_and_simulator(seed: int, flow: Any) -> None:
    module = pool_net(seed)
    feeds = flow.samples(module, seed + 500, 1)[0]
    ref = flow.reference(module, feeds)
    program = flow.program(pool_net, seed, "INT8")
    ops = [n.op_type for n in program.graph.nodes]
    assert "FloatOp" not in ops
    assert ops.count("AveragePool") == 1 and ops.count("ReduceSum") == 3
    got = run_program(program, feeds, dump_all=True)
    for name in ("p_AveragePool", "g_GlobalAveragePool", "m_ReduceMean", "s_ReduceSum"):
        assert cosine(got[name], ref[name]) >= 0.99, name
    backend = BM1684XBackend()
    data = backend.codegen(program, DeployOptions(quantize="INT8"))
    simulated = backend.simulate(data, feeds)
    interpreted = backend.run_program(program, feeds)
    assert simulated.keys() == interpreted.keys()
    for name, want in interpreted.items():
        assert np.array_equal(simulated[name], want), name


def test_pool_requant_multipliers_have_8_bits() -> None:
    # The classifier's 3×96 pool: 0.066934588/(0.015367235·288) = 0.0151243, which
    # TPU-MLIR's tpu.Pool2D holds as 31 >> 11 (124 >> 13 with trailing zeros dropped);
    # a 32-bit multiplier would carry 0.0151243 to 8 digits.
    module = one_op("GlobalAveragePool", (1, 1, 3, 96), {})
    program = lowered(module, 0.066934588188976379, 0.015367235433070867)
    node = the_node(program, "ReduceSum")
    assert (node.int("multiplier"), node.int("shift")) == (31, 11)
    # all codes 3: sum 864 -> floor(864·31/2^11 + 1/2) = floor(13.08 + .5) = 13
    x = np.full((1, 1, 3, 96), 3 * 0.066934588188976379, np.float32)
    assert stored(program, x, node.output.name).tolist() == [[[[13]]]]


def test_pool_rounds_half_up_on_negative_ties() -> None:
    # ratio 6/192 = 1/32: (1, 5). A sum of -880 is -27.5, which the chip rounds to -27
    # (half up), not -28 (half away from zero), whatever the op's round_mode attribute
    # says in TPU-MLIR's dump.
    module = one_op("GlobalAveragePool", (1, 1, 2, 96), {})
    program = lowered(module, 0.6, 0.1)
    node = the_node(program, "ReduceSum")
    assert (node.int("multiplier"), node.int("shift")) == (1, 5)
    codes = np.zeros(192)
    codes[:176] = -5
    x = (codes * 0.6).astype(np.float32).reshape(1, 1, 2, 96)
    assert stored(program, x, node.output.name).tolist() == [[[[-27]]]]
