"""Lowering top-level modules to BM1684X programs: storage types per mode, accuracy
against the F32 top-level module, the F32 fallback, and the program's net outputs."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.compare import cosine_similarity
from sophonc.ir import Graph, Module, Node, QuantType, TensorType, Value
from sophonc.passes import canonicalize
from sophonc_backend_bm1684x.codegen.container import build_bmodel
from sophonc_backend_bm1684x.lowering.lower import F32_ONLY_ACTIVATIONS, lower_module
from sophonc_backend_bm1684x.program.executor import run_program
from sophonc_backend_bm1684x.simulator import simulate

FLOAT16 = {"F16": "f16", "BF16": "bf16"}
#: Largest error allowed against F32, relative to the tensor's largest magnitude: a few
#: units in the last place of the format (f16 has 11 significant bits, bf16 8), since
#: every op rounds its result once and a few ops are chained.
RELATIVE_TOLERANCE = {"F16": 2.0**-8, "BF16": 2.0**-5}
COSINE = {"F16": 0.9999, "BF16": 0.999, "INT8": 0.99}
BUILDERS = ("conv_net", "onnx_net", "filter_net", "deconv_net")


def half_away(v: np.ndarray) -> np.ndarray:
    """C ``std::round``: halves away from zero."""
    return (np.sign(v) * np.floor(np.abs(v) + 0.5)).astype(np.int64)


def compare_with_top(
    program: Module, top: Module, flow: Any, seeds: range
) -> list[tuple[str, float, float]]:
    """(name, relative max error, cosine) of every program value named like a top one."""
    found = []
    for seed in seeds:
        feeds = flow.samples(top, seed, 1)[0]
        ref = flow.reference(top, feeds)
        got = run_program(program, feeds, dump_all=True)
        for name, want in ref.items():
            if name not in got or name in feeds:
                continue
            g = np.asarray(got[name], np.float64)
            w = np.asarray(want, np.float64)
            assert g.shape == w.shape, name
            rel = float(np.max(np.abs(g - w)) / max(float(np.max(np.abs(w))), 1e-30))
            found.append((name, rel, cosine_similarity(g.ravel(), w.ravel())))
    return found


@pytest.mark.parametrize("mode", ["F16", "BF16"])
@pytest.mark.parametrize("builder", BUILDERS)
def test_half_precision_programs_store_every_float_activation_in_that_type(
    builder: str, mode: str, models: Any, flow: Any
) -> None:
    build = getattr(models, builder)
    program = flow.program(build, 4, mode)
    half = FLOAT16[mode]
    graph = program.graph
    net_outputs = {id(v) for v in graph.outputs}
    def f32_only(n: Any) -> bool:
        """An activation the chip runs in F32 whatever the mode (SiLU), or its input cast."""
        if n.op_type == "FloatOp" and n.attrs.get("top_op") in F32_ONLY_ACTIVATIONS:
            return True
        return n.op_type == "Cast" and any(f32_only(c) for c in n.output.consumers())

    for node in graph.nodes:
        for out in node.outputs:
            if id(out) in net_outputs:
                # the f32 copy the user reads: a Cast of the half-precision value
                assert node.op_type == "Cast" and out.dtype == "f32", out.name
                assert node.input(0).dtype == half
            elif f32_only(node):
                assert out.dtype == "f32", (node.op_type, out.name)
            else:
                assert out.dtype == half, (node.op_type, out.name, out.dtype)
        if node.op_type == "FloatOp" and not f32_only(node):
            assert all(o.meta.get("precision") == mode for o in node.outputs)
            for v in node.inputs:
                assert v is None or v.const is not None or v.dtype == half, v.name
    # net inputs stay f32 and are cast once
    for v in graph.inputs:
        assert v.dtype == "f32"
        (use,) = v.uses()
        assert use.node.op_type == "Cast" and use.node.output.dtype == half


@pytest.mark.parametrize("mode", ["F16", "BF16"])
@pytest.mark.parametrize("builder", BUILDERS)
def test_half_precision_programs_agree_with_f32(
    builder: str, mode: str, models: Any, flow: Any
) -> None:
    build = getattr(models, builder)
    program = flow.program(build, 4, mode)
    top = build(4)
    compared = compare_with_top(program, top, flow, range(100, 103))
    names = {name for name, _, _ in compared}
    assert names >= {v.name for v in top.graph.outputs}
    assert len(names) == len(top.graph.nodes)  # every top tensor has its program twin
    for name, rel, cos in compared:
        assert rel <= RELATIVE_TOLERANCE[mode], (name, rel)
        assert cos >= COSINE[mode], (name, cos)


@pytest.mark.parametrize(
    ("builder", "seed", "cosine"),
    [
        ("conv_net", 5, COSINE["INT8"]),
        ("conv_net", 6, COSINE["INT8"]),
        ("conv_net", 7, COSINE["INT8"]),
        ("deconv_net", 5, COSINE["INT8"]),
        # a Mul of two activations calibrated by max loses a little more
        ("onnx_net", 5, 0.98),
        ("onnx_net", 6, 0.98),
    ],
)
def test_int8_programs_reach_their_cosine_against_f32(
    builder: str, seed: int, cosine: float, models: Any, flow: Any
) -> None:
    build = getattr(models, builder)
    program = flow.program(build, seed, "INT8", calib_samples=16)
    nodes = program.graph.nodes
    assert {"Conv", "ConvTranspose"} & {n.op_type for n in nodes}
    # every op in INT8 but the Concats of mixed ranges (kept in F16 by the quantizer)
    for node in nodes:
        if node.op_type == "FloatOp":
            assert node.output.meta["precision"] == "F16", node.name
    top = build(seed)
    compared = compare_with_top(program, top, flow, range(200, 205))  # not calibration data
    outputs = {v.name for v in top.graph.outputs}
    for name, _, cos in compared:
        if name in outputs:
            assert cos >= cosine, (name, cos)
    assert {name for name, _, _ in compared} >= outputs


def test_a_conv_whose_filter_is_an_activation_runs_in_f32(models: Any, flow: Any) -> None:
    program = flow.program(models.filter_net, 0, "INT8")
    x, k = program.graph.inputs
    conv = program.graph.nodes[0]
    assert conv.op_type == "FloatOp"
    assert conv.str("top_op") == "Conv"
    assert conv.inputs == [x, k]  # the f32 net inputs themselves, no casts
    assert conv.output.dtype == "f32" and conv.output.quant is None
    assert conv.output.meta["precision"] == "F32"
    assert "Conv" not in {n.op_type for n in program.graph.nodes}
    # the Add after it still runs in INT8, on the quantized conv output
    add = next(n for n in program.graph.nodes if n.op_type == "Add")
    assert add.output.dtype == "i8"
    assert add.input(0).producer is not None and add.input(0).producer.op_type == "Cast"
    assert add.input(0).producer.input(0) is conv.output


@pytest.mark.parametrize("mode", ["INT8", "F16", "BF16", "F32"])
@pytest.mark.parametrize("builder", BUILDERS)
def test_net_outputs_are_f32_under_the_top_names(
    builder: str, mode: str, models: Any, flow: Any
) -> None:
    build = getattr(models, builder)
    program = flow.program(build, 6, mode)
    top = build(6)
    assert [v.name for v in program.graph.outputs] == [v.name for v in top.graph.outputs]
    assert all(v.dtype == "f32" and v.quant is None for v in program.graph.outputs)
    assert [(v.name, v.type) for v in program.graph.inputs] == [
        (v.name, v.type) for v in top.graph.inputs
    ]
    names = [v.name for v in program.graph.values().values()]
    assert len(names) == len(set(names))  # every program value has its own name
    assert program.metadata["chip"] == "bm1684x"
    assert program.metadata["mode"] == mode


def test_f32_programs_equal_the_reference_interpreter(models: Any, flow: Any) -> None:
    for builder in BUILDERS:
        build = getattr(models, builder)
        program = flow.program(build, 8, "F32")
        assert {n.op_type for n in program.graph.nodes} == {"FloatOp"}
        for name, rel, _ in compare_with_top(program, build(8), flow, range(2)):
            assert rel == 0.0, name


def test_int8_types_and_conv_parameters_from_a_table_written_by_hand(
    models: Any, flow: Any
) -> None:
    module = models.conv_net(9)
    w1 = np.asarray(module.graph.nodes[0].input(1).const, np.float64)
    b1 = np.asarray(module.graph.nodes[0].input(2).const, np.float64)
    table = CalibrationTable(
        {
            "x": TableEntry(2.5, -2.5, 2.4),
            "r1_Relu": TableEntry(3.0, 0.0, 3.0),
            "r2_Clip": TableEntry(6.0, 0.0, 6.0),
            "a_Add": TableEntry(7.0, 0.0, 7.0),
            "m_Mul": TableEntry(7.0, -0.3, 7.0),
            "p_MaxPool": TableEntry(5.0, -0.3, 5.0),
        }
    )
    program = flow.lower(module, "INT8", table)
    values = program.graph.values()
    # symmetric scales: th/127 when the table's min is negative, th/255 (u8) otherwise;
    # a ReLU output is never negative; MaxPool moves codes, and its single-use input takes
    # the pool's own range (TPU-MLIR's backward rule, sophonc.quantize.backward)
    want = {
        "x_i8": ("i8", 2.5 / 127),
        "r1_Relu": ("u8", 3.0 / 255),
        "r2_Clip": ("u8", 6.0 / 255),
        "a_Add_u8": ("u8", 7.0 / 255),
        "m_Mul": ("i8", 5.0 / 127),
        "p_MaxPool_i8": ("i8", 5.0 / 127),
    }
    for name, (storage, scale) in want.items():
        q = values[name].quant
        assert q is not None, name
        assert (values[name].dtype, q.storage, q.scale, q.zero_point) == (
            storage,
            storage,
            (scale,),
            (0,),
        ), name
    # the first conv, per output channel c (TPU-MLIR's rules; a bias makes the weights signed):
    # scale_w = max|W[c]|/127, Wq = round(W/scale_w), bias_q = round(b/(scale_w·in_scale)),
    # multiplier/2^shift ≈ (float32)(scale_w·in_scale/out_scale) within half a step
    conv = next(n for n in program.graph.nodes if n.op_type == "Conv")
    x_scale, out_scale = 2.5 / 127, 3.0 / 255
    scale_w = np.abs(w1).reshape(8, -1).max(axis=1) / 127
    wq = np.clip(half_away(w1 / scale_w.reshape(8, 1, 1, 1)), -128, 127)
    bias_q = half_away(b1 / (scale_w * x_scale))
    assert np.array_equal(conv.input(1).const, wq)
    assert conv.input(1).dtype == "i8"
    assert np.array_equal(conv.input(2).const, bias_q)
    assert conv.input(2).dtype == "i32"
    ratio = (scale_w * x_scale / out_scale).astype(np.float32).astype(np.float64)
    m = np.asarray(conv.input(3).const, np.int64)
    s = np.asarray(conv.input(4).const, np.int64)
    assert (s <= 30).all() and (np.abs(m) < 2**31 - 1).all()
    assert (np.abs(m / 2.0**s - ratio) <= 2.0 ** -(s + 1)).all()
    assert conv.attrs["do_relu"] is True
    assert "relu_upper" not in conv.attrs
    # the second conv's Clip(0, 6): upper limit 6 / (6/255) = 255 codes
    conv2 = [n for n in program.graph.nodes if n.op_type == "Conv"][1]
    assert conv2.attrs["relu_upper"] == 255


def test_a_concat_needing_a_large_requant_ratio_lowers_and_saturates(flow: Any) -> None:
    # Both Concat inputs have threshold 200, the Concat's own row says 1: re-quantizing
    # the int8 input onto the output's scale needs the ratio (200/127) / (1/127) = 200,
    # more than an 8-bit multiplier (< 127) holds. The inputs' thresholds agree, so the
    # quantizer keeps the Concat in INT8; lowering must still succeed (it once raised a
    # bare ValueError from the 8-bit multiplier search).
    x = Value("x", TensorType("f32", (1, 2)))
    neg = Node("Neg", [x], ["a_Neg"])
    absolute = Node("Abs", [x], ["b_Abs"])
    cat = Node("Concat", [neg.output, absolute.output], ["c_Concat"], {"axis": 1})
    module = canonicalize(Module("cat", Graph("cat", [x], [cat.output], [neg, absolute, cat])))
    table = CalibrationTable(
        {
            "x": TableEntry(200.0, -200.0, 200.0),
            "a_Neg": TableEntry(200.0, -200.0, 200.0),
            "b_Abs": TableEntry(200.0, 0.0, 200.0),
            "c_Concat": TableEntry(1.0, -1.0, 1.0),
        }
    )
    program = flow.lower(module, "INT8", table)
    assert "Requant" in {n.op_type for n in program.graph.nodes}
    feeds = {"x": np.array([[0.5, -150.0]], np.float32)}
    got = run_program(program, feeds)["c_Concat"]
    assert_bit_exact(simulate(build_bmodel(program, "cat"), feeds), {"c_Concat": got})
    # x codes (scale 200/127): 0.5 → round(0.3175) = 0, -150 → round(-95.25) = -95.
    # Neg/Abs tables give 0 and ±95 (i8) / 0 and 191 (u8, scale 200/255); re-scaled onto
    # 1/127 steps every nonzero code saturates at 127 → 1.0, zero stays 0.
    np.testing.assert_allclose(got, [[0.0, 1.0, 0.0, 1.0]], rtol=0, atol=1e-6)


def assert_bit_exact(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name].tobytes() == want[name].tobytes(), name


def test_mul_requant_has_an_8_bit_multiplier() -> None:
    """The PP-OCR classifier's first squeeze-excite gate, with TPU-MLIR's scales:
    ``s_a·s_b/s_out = 0.0043587`` becomes ``71 >> 14`` (0.0043335) on the chip, as in
    TPU-MLIR's tpu.Mul; a 32-bit multiplier would have kept 0.0043587."""
    u8 = {"qmin": 0, "qmax": 255}
    scales = {"a": 0.021431437254901962, "b": 0.0013911717647058822, "y": 0.0068402921568627446}
    a = Value("a", TensorType("f32", (1, 4)))
    b = Value("b", TensorType("f32", (1, 4)))
    mul = Node("Mul", [a, b], ["y"], {}, output_types=[TensorType("f32", (1, 4))])
    module = Module("m", Graph("g", [a, b], [mul.output], [mul]))
    for v in (a, b, mul.output):
        v.quant = QuantType("u8", (scales[v.name],), (0,), **u8)
    mul.output.meta["precision"] = "INT8"
    program = lower_module(module, "INT8")
    (node,) = [n for n in program.graph.nodes if n.op_type == "Mul"]
    assert (node.int("multiplier"), node.int("shift")) == (71, 14)
    codes_a, codes_b = np.array([200, 17, 255, 3]), np.array([255, 100, 90, 1])
    feeds = {
        "a": (codes_a * scales["a"]).astype(np.float32).reshape(1, 4),
        "b": (codes_b * scales["b"]).astype(np.float32).reshape(1, 4),
    }
    got = run_program(program, feeds, dump_all=True, raw=True)[node.output.name]
    # (a·b·71 + 2^13) >> 14: 200·255 -> 221, 17·100 -> 7, 255·90 -> 99, 3·1 -> 0
    assert got.ravel().tolist() == [221, 7, 99, 0]


@pytest.mark.parametrize(
    ("op", "x", "exact", "rounded"),
    [
        # x + 1/3 near a BF16 tie: exact 1/3 gives 0.333984375, bf16(1/3) 0.3359375
        ("Add", 0.00099945068359375, 0.333984375, 0.3359375),
        # x · 1/3: exact 1/3 gives 0.00099945068359375, bf16(1/3) 0.001007080078125
        ("Mul", 0.0030059814453125, 0.00099945068359375, 0.001007080078125),
    ],
)
def test_a_scalar_constant_stays_f32_in_bf16(
    op: str, x: float, exact: float, rounded: float
) -> None:
    """The scalar of ``x ∘ c`` is an F32 attribute on the chip (TPU-MLIR's
    AddConst/MulConst): BF16 mode gives ``bf16(x ∘ c)``, not ``bf16(x ∘ bf16(c))``."""
    xv = Value("x", TensorType("f32", (1, 1)))
    c = Value.weight("c", np.array(1.0 / 3.0, np.float32))
    node = Node(op, [xv, c], ["y"], {}, output_types=[TensorType("f32", (1, 1))])
    module = Module("m", Graph("g", [xv], [node.output], [node]))
    program = lower_module(module, "BF16")
    (float_op,) = [n for n in program.graph.nodes if n.op_type == "FloatOp"]
    assert float_op.input(1).dtype == "f32"
    got = run_program(program, {"x": np.array([[x]], np.float32)})["y"]
    assert got.ravel().tolist() == [exact] != [rounded]
