"""BM1684X INT8 lowering rules under zero points: the codes and parameters they choose.

Each top-level module here gets its quantized types by hand (no calibration), is
lowered, and runs in the program interpreter; the stored integers of every
program value are compared with numbers worked out in the comments. Real inputs
are chosen to quantize exactly: with scale ``s`` and zero point ``zp`` the real
``r`` is the code ``r/s + zp``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.ir import Graph, Module, Node, QuantType, TensorType, Value
from sophonc.passes.common.shape_inference import ShapeInferencePass
from sophonc_backend_bm1684x.lowering.lower import lower_module
from sophonc_backend_bm1684x.program.executor import run_program

STORAGE_RANGE = {"i8": (-128, 127), "u8": (0, 255)}


def qtype(storage: str, scale: float, zp: int) -> QuantType:
    lo, hi = STORAGE_RANGE[storage]
    return QuantType(storage, (scale,), (zp,), qmin=lo, qmax=hi)


def f32(name: str, *shape: int) -> Value:
    return Value(name, TensorType("f32", shape))


def lowered(
    inputs: Sequence[Value], outputs: Sequence[Value], nodes: Sequence[Node],
    quants: Mapping[str, QuantType],
) -> Module:  # fmt: skip
    """The BM1684X program of a module whose INT8 types are given by name."""
    module = Module("m", Graph("m", list(inputs), list(outputs), list(nodes)))
    ShapeInferencePass()(module)
    for v in module.graph.values().values():
        if v.name in quants:
            v.quant = quants[v.name]
    for node in nodes:
        for out in node.outputs:
            out.meta["precision"] = "INT8"
    return lower_module(module, "INT8")


def stored(program: Module, feeds: Mapping[str, npt.ArrayLike]) -> dict[str, list[int]]:
    """The stored integers of every quantized program value, flattened."""
    raw = run_program(program, feeds, dump_all=True, raw=True)
    values = program.graph.values()
    return {k: v.reshape(-1).tolist() for k, v in raw.items() if values[k].quant is not None}


def only(program: Module, op: str) -> Node:
    (node,) = [n for n in program.graph.nodes if n.op_type == op]
    return node


def test_conv_filter_bias_and_fused_relu_limit_under_zero_points() -> None:
    x = f32("x", 1, 1, 1, 3)
    w = Value.weight("w", np.array([0.5, -1.27, 0.25], np.float32).reshape(1, 1, 1, 3))
    b = Value.weight("b", np.array([0.1], np.float32))
    attrs = {"kernel_shape": [1, 3], "pads": [0, 1, 0, 1], "do_relu": True, "relu_limit": 0.5}
    conv = Node("Conv", [x, w, b], ["y"], attrs)
    program = lowered([x], [conv.output], [conv],
                      {"x": qtype("i8", 0.5, -10), "y": qtype("i8", 0.005, -100)})  # fmt: skip
    node = only(program, "Conv")
    # weights symmetric per channel: scale max|w|/127 = 0.01, codes [50, -127, 25]
    assert node.input(1).const.reshape(-1).tolist() == [50, -127, 25]  # type: ignore[union-attr]
    # bias round(0.1 / (0.01 · 0.5)) = 20: no zero-point term, the kernel centres x
    assert node.input(2).const.tolist() == [20]  # type: ignore[union-attr]
    # requant 0.01 · 0.5 / 0.005 = 1 → (m, s) = (1, 0)
    assert (node.input(3).const.tolist(), node.input(4).const.tolist()) == ([1], [0])  # type: ignore[union-attr]
    # the limit's code: round(0.5 / 0.005) + zp = 100 - 100 = 0
    assert node.attrs["relu_upper"] == 0
    codes = stored(program, {"x": np.array([1.0, 0.0, -2.0], np.float32).reshape(1, 1, 1, 3)})
    # x codes = 2x - 10 = [-8, -10, -14], centred [2, 0, -4]; with real-zero pads:
    # out0 = 2·(-127) = -254, out1 = 2·50 + (-4)·25 = 0, out2 = (-4)·(-127) = 508
    # + bias 20 = [-234, 20, 528]; + zp (-100) = [-334, -80, 428]
    # ReLU at the zero point (-100) and at the upper code (0): [-100, -80, 0]
    assert codes["x_i8"] == [-8, -10, -14]
    assert codes[node.output.name] == [-100, -80, 0]


def test_relu_table_is_built_around_both_zero_points() -> None:
    x = f32("x", 6)
    relu = Node("Relu", [x], ["y"])
    program = lowered([x], [relu.output], [relu],
                      {"x": qtype("i8", 0.5, -10), "y": qtype("u8", 0.25, 0)})  # fmt: skip
    table = only(program, "Lut").input(1).const
    assert table is not None
    # T[byte of q] = sat(round(max(0, (q + 10)·0.5) / 0.25)) = sat(2·(q + 10)) for q ≥ -10
    lookups = {-128: 0, -11: 0, -10: 0, -9: 2, 0: 20, 117: 254, 118: 255}
    for q, want in lookups.items():
        assert int(table[q & 0xFF]) == want, q
    x_real = np.array([-59.0, -0.5, 0.0, 0.5, 5.0, 63.5], np.float32)  # codes -128 -11 -10 -9 0 117
    assert stored(program, {"x": x_real})[only(program, "Lut").output.name] == [0, 0, 0, 2, 20, 254]


def test_maxpool_fused_relu_becomes_code_clamps() -> None:
    x = f32("x", 1, 1, 1, 6)
    attrs = {"kernel_shape": [1, 2], "strides": [1, 2], "do_relu": True, "relu_limit": 2.0}
    pool = Node("MaxPool", [x], ["y"], attrs)
    program = lowered([x], [pool.output], [pool],
                      {"x": qtype("i8", 0.5, -10), "y": qtype("u8", 2.0 / 255, 0)})  # fmt: skip
    move = only(program, "Move")
    # the moved codes keep x's type: the limit 2.0 is code 2.0/0.5 - 10 = -6
    assert move.attrs["relu_upper"] == -6
    assert "relu_limit" not in move.attrs  # a real limit must never meet codes
    x_real = np.array([-5.0, -1.0, 0.0, 0.5, 1.5, 25.0], np.float32).reshape(1, 1, 1, 6)
    # x codes: 2x - 10 = [-20, -12, -10, -9, -7, 40]
    # window maxima [-12, -9, 40] → clamp at -10 and -6: [-10, -9, -6]
    assert stored(program, {"x": x_real})[move.output.name] == [-10, -9, -6]


def test_pad_fill_value_becomes_its_code_under_the_zero_point() -> None:
    x = f32("x", 1, 1, 1, 2)
    pad = Node("Pad", [x], ["y"], {"pads": [0, 0, 0, 1, 0, 0, 0, 1], "value": 0.25})
    program = lowered([x], [pad.output], [pad],
                      {"x": qtype("i8", 0.5, -10), "y": qtype("i8", 0.5, -10)})  # fmt: skip
    move = only(program, "Move")
    # round_half_away(0.25 · 2) = 1 (0.5 rounds away), + zp = -9
    assert move.attrs["value"] == -9.0
    codes = stored(program, {"x": np.array([1.0, -3.0], np.float32).reshape(1, 1, 1, 2)})
    assert codes[move.output.name] == [-9, -8, -16, -9]


def test_concat_requantizes_each_input_onto_the_output_zero_point() -> None:
    a, b = f32("a", 1, 4), f32("b", 1, 5)
    ra = Node("Reshape", [a], ["ra"], {"shape": (1, 4)})
    rb = Node("Reshape", [b], ["rb"], {"shape": (1, 5)})
    cat = Node("Concat", [ra.output, rb.output], ["y"], {"axis": 1})
    quants = {"a": qtype("u8", 0.5, 12), "ra": qtype("u8", 0.5, 12),
              "b": qtype("i8", 0.25, -8), "rb": qtype("i8", 0.25, -8),
              "y": qtype("i8", 0.5, -30)}  # fmt: skip
    program = lowered([a, b], [cat.output], [ra, rb, cat], quants)
    requants = [n for n in program.graph.nodes if n.op_type == "Requant"]
    # ratios 0.5/0.5 = 1 → (1, 0) and 0.25/0.5 → (1, 1)
    assert [(n.attrs["multiplier"], n.attrs["shift"]) for n in requants] == [(1, 0), (1, 1)]
    feeds = {
        "a": np.array([[0.0, 0.5, 14.0, 121.5]], np.float32),  # codes 12 13 40 255
        "b": np.array([[0.0, 0.25, 0.75, 33.75, -30.0]], np.float32),  # -8 -7 -5 127 -128
    }
    codes = stored(program, feeds)
    # a: centred [0, 1, 28, 243] · 1 - 30 = [-30, -29, -2, 213 → 127]
    # b: centred [0, 1, 3, 135, -120] · 0.5, HALF_UP [0, 1, 2, 68, -60]; - 30
    want = [-30, -29, -2, 127, -30, -29, -28, 38, -90]
    concat = [n for n in program.graph.nodes if n.op_type == "Move"][-1]
    assert codes[concat.output.name] == want
