"""The canonicalisation passes on small graphs: the rewrites happen, the names a
framework dump has survive, and the numbers stay those of onnxruntime."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

from onnx_graphs import single_input_model
from sophonc.api import FrontendOptions
from sophonc.interp import Interpreter
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.ir.verify import verify_module
from sophonc.passes import canonicalize
from sophonc.passes.common.batchnorm_folding import BatchNormFoldPass
from sophonc.passes.common.constant_folding import ConstantFoldingPass
from sophonc.passes.common.dead_code_elimination import DeadCodeEliminationPass
from sophonc.passes.common.identity_elimination import IdentityEliminationPass
from sophonc_frontend_onnx.frontend import OnnxFrontend

SEED = 11


def onnx_model(
    nodes: list[Any], x_shape: list[int | str], inits: dict[str, np.ndarray], outputs: list[str]
) -> Any:
    """The model of ``nodes`` on input ``x`` (opset 17)."""
    return single_input_model(nodes, inits, x_shape, outputs, opset=17)


def import_and_compare(model: Any, tmp_path: Path, x: np.ndarray) -> Module:
    """Import, canonicalise, and check the outputs against onnxruntime."""
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    module = canonicalize(OnnxFrontend().load(path, FrontendOptions()))
    verify_module(module)
    ours = Interpreter(module).run({"x": x})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    ref = sess.run(None, {"x": x})
    for value, want in zip(module.graph.outputs, ref, strict=True):
        np.testing.assert_allclose(ours[value.name], want, rtol=1e-4, atol=1e-5)
    return module


def conv_bn(rng: np.random.Generator, act: list[Any]) -> tuple[list[Any], dict[str, np.ndarray]]:
    inits = {
        "w": rng.normal(0, 0.3, (6, 3, 3, 3)).astype(np.float32),
        "b": rng.normal(0, 0.1, 6).astype(np.float32),
        "gamma": rng.uniform(0.5, 1.5, 6).astype(np.float32),
        "beta": rng.normal(0, 0.2, 6).astype(np.float32),
        "mean": rng.normal(0, 0.2, 6).astype(np.float32),
        "var": rng.uniform(0.2, 2.0, 6).astype(np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node(
            "BatchNormalization", ["c", "gamma", "beta", "mean", "var"], ["bn"], epsilon=1e-3
        ),
        *act,
    ]
    return nodes, inits


def test_conv_bn_relu_becomes_one_conv_named_after_the_relu(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED)
    nodes, inits = conv_bn(rng, [helper.make_node("Relu", ["bn"], ["y"])])
    x = rng.normal(size=(1, 3, 8, 8)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [1, 3, 8, 8], inits, ["y"]), tmp_path, x)
    assert [n.op_type for n in module.graph.nodes] == ["Conv"]
    conv = module.graph.nodes[0]
    assert conv.outputs[0].name == "y_Relu"
    assert conv.attrs["do_relu"] is True and conv.attrs["relu_limit"] == -1.0


def test_clip_0_6_fuses_with_its_limit(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 1)
    lo = np.asarray(0.0, np.float32)
    hi = np.asarray(6.0, np.float32)
    nodes, inits = conv_bn(rng, [helper.make_node("Clip", ["bn", "lo", "hi"], ["y"])])
    inits.update(lo=lo, hi=hi)
    x = rng.normal(0, 3, size=(1, 3, 8, 8)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [1, 3, 8, 8], inits, ["y"]), tmp_path, x)
    (conv,) = module.graph.nodes
    assert conv.attrs["relu_limit"] == 6.0 and conv.outputs[0].name == "y_Clip"


def test_x_times_sigmoid_x_becomes_silu_in_either_order(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 2)
    nodes = [
        helper.make_node("Sigmoid", ["x"], ["s"]),
        helper.make_node("Mul", ["s", "x"], ["y"]),
        helper.make_node("Sigmoid", ["y"], ["s2"]),
        helper.make_node("Mul", ["y", "s2"], ["z"]),
    ]
    x = rng.normal(0, 2, size=(1, 4, 5, 5)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [1, 4, 5, 5], {}, ["z"]), tmp_path, x)
    assert [(n.op_type, n.outputs[0].name) for n in module.graph.nodes] == [
        ("SiLU", "y_Mul"),
        ("SiLU", "z_Mul"),
    ]


def test_bn_stays_when_the_conv_output_has_another_reader(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 3)
    nodes, inits = conv_bn(rng, [helper.make_node("Add", ["bn", "c"], ["y"])])
    x = rng.normal(size=(1, 3, 8, 8)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [1, 3, 8, 8], inits, ["y"]), tmp_path, x)
    assert [n.op_type for n in module.graph.nodes] == ["Conv", "BatchNormalization", "Add"]


def test_identity_at_the_output_hands_its_name_to_the_producer(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 4)
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Identity", ["r"], ["y"]),
        helper.make_node("Identity", ["x"], ["x_copy"]),
    ]
    x = rng.normal(size=(2, 3)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [2, 3], {}, ["y", "x_copy"]), tmp_path, x)
    # y's producer takes the name; an identity of a graph input must stay.
    assert [(n.op_type, n.outputs[0].name) for n in module.graph.nodes] == [
        ("Relu", "y_Identity"),
        ("Identity", "x_copy_Identity"),
    ]


def test_shape_arithmetic_of_a_dynamic_batch_folds_away(tmp_path: Path) -> None:
    """Flatten written as Reshape(x, Concat(Gather(Shape(x), 0), [-1])), dynamic batch."""
    rng = np.random.default_rng(SEED + 5)
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["flat"]),
        helper.make_node("Relu", ["flat"], ["y"]),
    ]
    inits = {
        "zero": np.asarray(0, np.int64),
        "axes0": np.asarray([0], np.int64),
        "minus1": np.asarray([-1], np.int64),
    }
    model = onnx_model(nodes, ["N", 3, 4, 4], {}, ["y"])
    model.graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in inits.items())
    path = tmp_path / "dyn.onnx"
    onnx.save(model, str(path))
    module = canonicalize(OnnxFrontend().load(path, FrontendOptions(input_shapes=[[2, 3, 4, 4]])))
    assert [n.op_type for n in module.graph.nodes] == ["Reshape", "Relu"]
    assert module.graph.nodes[0].attrs["shape"] == (2, 48)
    x = rng.normal(size=(2, 3, 4, 4)).astype(np.float32)
    out = Interpreter(module).run({"x": x})
    np.testing.assert_array_equal(out["y_Relu"], np.maximum(x.reshape(2, 48), 0))


# ---- passes run directly on hand-built IR -------------------------------------------


def test_constant_folding_evaluates_shape_of_a_static_tensor() -> None:
    x = Value("x", TensorType("f32", (2, 5, 7)))
    shp = Node("Shape", [x], ["s_Shape"], {}, output_types=[TensorType("i64", (3,))])
    idx = Value.weight("idx", np.asarray([2, 0], np.int64))
    gat = Node(
        "Gather",
        [shp.output, idx],
        ["g_Gather"],
        {"axis": 0},
        output_types=[TensorType("i64", (2,))],
    )
    module = Module("m", Graph("g", [x], [gat.output], [shp, gat]))
    for _ in range(2):
        ConstantFoldingPass().call(module)
    assert module.graph.nodes == []
    (out,) = module.graph.outputs
    assert out.name == "g_Gather"
    np.testing.assert_array_equal(out.const, [7, 2])


def test_dead_code_goes_in_one_run_and_live_code_stays() -> None:
    f = TensorType("f32", (3,))
    x = Value("x", f)
    a = Node("Relu", [x], ["a_Relu"], output_types=[f])
    b = Node("Neg", [a.output], ["b_Neg"], output_types=[f])  # dead chain a -> b
    c = Node("Abs", [x], ["c_Abs"], output_types=[f])
    module = Module("m", Graph("g", [x], [c.output], [a, b, c]))
    assert DeadCodeEliminationPass().call(module).modified
    assert [n.name for n in module.graph.nodes] == ["c_Abs"]
    assert x.uses()[0].node is c and len(x.uses()) == 1
    assert not DeadCodeEliminationPass().call(module).modified


@pytest.mark.parametrize(
    ("op", "attrs", "removed"),
    [
        ("Transpose", {"perm": (0, 1, 2)}, True),
        ("Transpose", {"perm": (0, 2, 1)}, False),
        ("Reshape", {"shape": (2, 3, 3)}, True),
        ("Slice", {"starts": (0,), "ends": (3,), "axes": (2,), "steps": (1,)}, True),
        ("Slice", {"starts": (-1,), "ends": (-4,), "axes": (2,), "steps": (-1,)}, False),
    ],
)
def test_noop_detection(op: str, attrs: dict[str, object], removed: bool) -> None:
    t = TensorType("f32", (2, 3, 3))
    x = Value("x", t)
    n = Node(op, [x], [f"y_{op}"], attrs, output_types=[t])
    r = Node("Relu", [n.output], ["z_Relu"], output_types=[t])
    module = Module("m", Graph("g", [x], [r.output], [n, r]))
    assert IdentityEliminationPass().call(module).modified is removed
    assert (r.inputs[0] is x) is removed


def test_bn_fold_matches_the_unfolded_graph_on_conv_transpose() -> None:
    rng = np.random.default_rng(SEED + 6)
    xt = TensorType("f32", (1, 4, 5, 5))
    yt = TensorType("f32", (1, 3, 10, 10))
    x = Value("x", xt)
    w = Value.weight("w", rng.normal(size=(4, 3, 2, 2)).astype(np.float32))
    attrs = {
        "kernel_shape": (2, 2),
        "strides": (2, 2),
        "pads": (0, 0, 0, 0),
        "dilations": (1, 1),
        "group": 1,
        "output_padding": (0, 0),
    }
    conv = Node("ConvTranspose", [x, w, None], ["c_ConvTranspose"], attrs, output_types=[yt])
    params = [
        Value.weight(n, rng.uniform(0.5, 1.5, 3).astype(np.float32)) for n in ("g", "b", "m", "v")
    ]
    bn = Node(
        "BatchNormalization",
        [conv.output, *params],
        ["y_BatchNormalization"],
        {"epsilon": 1e-5},
        output_types=[yt],
    )
    module = Module("m", Graph("g", [x], [bn.output], [conv, bn]))
    data = rng.normal(size=(1, 4, 5, 5)).astype(np.float32)
    before = Interpreter(module).run({"x": data})["y_BatchNormalization"]
    assert BatchNormFoldPass().call(module).modified
    verify_module(module)
    assert [n.op_type for n in module.graph.nodes] == ["ConvTranspose"]
    after = Interpreter(module).run({"x": data})["y_BatchNormalization"]
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-5)


def test_bn_fold_is_float32_step_by_step_as_tpu_mlir_folds(tmp_path: Path) -> None:
    """The folded weights equal, bit for bit, ``W·s`` and ``b·s + (beta - mean·s)`` with
    ``s = gamma / sqrt(var + eps)``, each step in float32 (TPU-MLIR's folded weights)."""
    rng = np.random.default_rng(SEED + 7)
    nodes, inits = conv_bn(rng, [])
    x = rng.normal(size=(1, 3, 8, 8)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [1, 3, 8, 8], inits, ["bn"]), tmp_path, x)
    (conv,) = module.graph.nodes
    s = inits["gamma"] / np.sqrt(inits["var"] + np.float32(1e-3))
    assert s.dtype == np.float32
    want_w = inits["w"] * s.reshape(-1, 1, 1, 1)
    want_b = inits["b"] * s + (inits["beta"] - inits["mean"] * s)
    assert np.array_equal(np.asarray(conv.input(1).const), want_w)
    assert np.array_equal(np.asarray(conv.input(2).const), want_b)


def pointwise_pair(
    rng: np.random.Generator, first_kernel: int = 1, relu_between: bool = False
) -> tuple[list[Any], dict[str, np.ndarray]]:
    """x → Conv(w1, b1) [→ Relu] → Conv(w2, b2) → Relu → y."""
    inits = {
        "w1": rng.normal(0, 0.4, (5, 3, first_kernel, first_kernel)).astype(np.float32),
        "b1": rng.normal(0, 0.2, 5).astype(np.float32),
        "w2": rng.normal(0, 0.4, (7, 5, 1, 1)).astype(np.float32),
        "b2": rng.normal(0, 0.2, 7).astype(np.float32),
    }
    pad = (first_kernel - 1) // 2
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[pad] * 4)]
    mid = "c1"
    if relu_between:
        nodes.append(helper.make_node("Relu", ["c1"], ["r1"]))
        mid = "r1"
    nodes += [
        helper.make_node("Conv", [mid, "w2", "b2"], ["c2"], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["y"]),
    ]
    return nodes, inits


def test_two_pointwise_convs_merge_into_one_with_in_order_float32_sums(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 8)
    nodes, inits = pointwise_pair(rng)
    x = rng.normal(size=(1, 3, 6, 6)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [1, 3, 6, 6], inits, ["y"]), tmp_path, x)
    (conv,) = module.graph.nodes
    assert conv.input(0).name == "x" and conv.output.name == "y_Relu"
    assert conv.attrs["do_relu"] is True and tuple(conv.attrs["strides"]) == (2, 2)
    # W = W2·W1 and b = W2·b1 + b2, summed over the 5 middle channels in order in
    # float32, b2 last: TPU-MLIR's merged weights bit for bit
    w1, w2 = inits["w1"].reshape(5, 3), inits["w2"].reshape(7, 5)
    want_w = np.zeros((7, 3), np.float32)
    want_b = np.zeros(7, np.float32)
    for k in range(5):
        for o in range(7):
            want_b[o] = np.float32(want_b[o] + w2[o, k] * inits["b1"][k])
            for i in range(3):
                want_w[o, i] = np.float32(want_w[o, i] + w2[o, k] * w1[k, i])
    want_b = want_b + inits["b2"]
    assert np.array_equal(np.asarray(conv.input(1).const), want_w.reshape(7, 3, 1, 1))
    assert np.array_equal(np.asarray(conv.input(2).const), want_b)


@pytest.mark.parametrize(
    ("first_kernel", "relu_between", "second_reader"),
    [(3, False, False), (1, True, False), (1, False, True)],
)
def test_convs_stay_apart_when_merging_would_change_the_result(
    tmp_path: Path, first_kernel: int, relu_between: bool, second_reader: bool
) -> None:
    rng = np.random.default_rng(SEED + 9)
    nodes, inits = pointwise_pair(rng, first_kernel, relu_between)
    outputs = ["y", "c1"] if second_reader else ["y"]
    x = rng.normal(size=(1, 3, 6, 6)).astype(np.float32)
    module = import_and_compare(onnx_model(nodes, [1, 3, 6, 6], inits, outputs), tmp_path, x)
    assert [n.op_type for n in module.graph.nodes] == ["Conv", "Conv"]
