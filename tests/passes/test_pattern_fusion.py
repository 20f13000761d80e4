"""The pattern passes on exported forms: the fused op appears, the surviving
tensor keeps the framework's name, and the numbers stay onnxruntime's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from sophonc.api import FrontendOptions
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc.ir.verify import verify_module
from sophonc.passes import canonicalize
from sophonc_frontend_onnx.frontend import OnnxFrontend

SEED = 23


def model(nodes: list[Any], x_shape: list[int], inits: dict[str, np.ndarray], out: str) -> Any:
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    return m


def check(m: Any, tmp_path: Path, x: np.ndarray) -> Module:
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    module = canonicalize(OnnxFrontend().load(path, FrontendOptions()))
    verify_module(module)
    (want,) = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {"x": x}
    )
    got = Interpreter(module).run({"x": x})[module.graph.outputs[0].name]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return module


def ops(module: Module) -> list[str]:
    return [n.op_type for n in module.graph.nodes]


def f32(a: Any) -> np.ndarray:
    return np.asarray(a, np.float32)


def test_hardswish_written_out_becomes_one_op(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Add", ["x", "three"], ["a"]),
        helper.make_node("Clip", ["a", "zero", "six"], ["c"]),
        helper.make_node("Mul", ["x", "c"], ["m"]),
        helper.make_node("Div", ["m", "six"], ["y"]),
    ]
    inits = {"three": f32(3), "zero": f32(0), "six": f32(6)}
    x = np.random.default_rng(SEED).uniform(-6, 6, (2, 3, 5)).astype(np.float32)
    module = check(model(nodes, [2, 3, 5], inits, "y"), tmp_path, x)
    assert [(n.op_type, n.outputs[0].name) for n in module.graph.nodes] == [("HardSwish", "y_Div")]


def test_hardsigmoid_written_out_as_a_multiply_by_a_sixth(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Add", ["three", "x"], ["a"]),
        helper.make_node("Clip", ["a", "zero", "six"], ["c"]),
        helper.make_node("Mul", ["c", "sixth"], ["y"]),
    ]
    inits = {"three": f32(3), "zero": f32(0), "six": f32(6), "sixth": f32(1 / 6)}
    x = np.random.default_rng(SEED + 1).uniform(-6, 6, (4, 7)).astype(np.float32)
    module = check(model(nodes, [4, 7], inits, "y"), tmp_path, x)
    assert ops(module) == ["HardSigmoid"]


def test_layer_norm_written_out_becomes_one_op(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 2)
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[-1]),
        helper.make_node("Sub", ["x", "mean"], ["d"]),
        helper.make_node("Pow", ["d", "two"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[-1]),
        helper.make_node("Add", ["var", "eps"], ["ve"]),
        helper.make_node("Sqrt", ["ve"], ["std"]),
        helper.make_node("Div", ["d", "std"], ["n"]),
        helper.make_node("Mul", ["n", "gamma"], ["g"]),
        helper.make_node("Add", ["g", "beta"], ["y"]),
    ]
    inits = {
        "two": f32(2),
        "eps": f32(1e-5),
        "gamma": rng.uniform(0.5, 1.5, 16).astype(np.float32),
        "beta": rng.normal(0, 0.1, 16).astype(np.float32),
    }
    x = rng.normal(1, 2, (2, 5, 16)).astype(np.float32)
    module = check(model(nodes, [2, 5, 16], inits, "y"), tmp_path, x)
    (node,) = module.graph.nodes
    assert node.op_type == "LayerNormalization" and node.outputs[0].name == "y_Add"
    assert node.attrs["axis"] == 2 and node.attrs["epsilon"] == float(np.float32(1e-5))


def test_layer_norm_with_another_reader_of_the_mean_stays(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[-1]),
        helper.make_node("Sub", ["x", "mean"], ["d"]),
        helper.make_node("Mul", ["d", "d"], ["sq"]),
        helper.make_node("ReduceMean", ["sq"], ["var"], axes=[-1]),
        helper.make_node("Add", ["var", "eps"], ["ve"]),
        helper.make_node("Sqrt", ["ve"], ["std"]),
        helper.make_node("Div", ["d", "std"], ["n"]),
        helper.make_node("Add", ["n", "mean"], ["y"]),
    ]
    x = np.random.default_rng(SEED + 3).normal(size=(3, 8)).astype(np.float32)
    module = check(model(nodes, [3, 8], {"eps": f32(1e-5)}, "y"), tmp_path, x)
    assert "LayerNormalization" not in ops(module)


def test_scale_and_shift_after_a_conv_fold_into_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 4)
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["s", "c"], ["m"]),
        helper.make_node("Add", ["m", "t"], ["a"]),
        helper.make_node("Div", ["a", "k"], ["y"]),
    ]
    inits = {
        "w": rng.normal(0, 0.3, (4, 3, 3, 3)).astype(np.float32),
        "b": rng.normal(0, 0.1, 4).astype(np.float32),
        "s": rng.uniform(0.5, 2, (4, 1, 1)).astype(np.float32),
        "t": f32(0.25),
        "k": f32(3),
    }
    x = rng.normal(size=(1, 3, 6, 6)).astype(np.float32)
    module = check(model(nodes, [1, 3, 6, 6], inits, "y"), tmp_path, x)
    assert [(n.op_type, n.outputs[0].name) for n in module.graph.nodes] == [("Conv", "y_Div")]


def test_a_spatially_varying_constant_does_not_fold(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 5)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"]),
        helper.make_node("Mul", ["c", "s"], ["y"]),
    ]
    inits = {
        "w": rng.normal(size=(2, 3, 1, 1)).astype(np.float32),
        "s": rng.normal(size=(1, 1, 4, 4)).astype(np.float32),
    }
    x = rng.normal(size=(1, 3, 4, 4)).astype(np.float32)
    module = check(model(nodes, [1, 3, 4, 4], inits, "y"), tmp_path, x)
    assert ops(module) == ["Conv", "Mul"]


def test_linear_bias_moves_into_the_matmul(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 6)
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["mm"]),
        helper.make_node("Add", ["bias", "mm"], ["y"]),
    ]
    inits = {
        "w": rng.normal(size=(8, 5)).astype(np.float32),
        "bias": rng.normal(size=(5,)).astype(np.float32),
    }
    x = rng.normal(size=(2, 3, 8)).astype(np.float32)
    module = check(model(nodes, [2, 3, 8], inits, "y"), tmp_path, x)
    (mm,) = module.graph.nodes
    assert mm.op_type == "MatMul" and mm.inputs[2] is not None
    assert mm.outputs[0].name == "y_Add"


def test_division_by_a_constant_becomes_a_multiply(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Div", ["r", "k"], ["y"]),
    ]
    x = np.random.default_rng(SEED + 7).normal(size=(3, 4)).astype(np.float32)
    module = check(model(nodes, [3, 4], {"k": f32([1, 2, 4, 8])}, "y"), tmp_path, x)
    assert ops(module) == ["Relu", "Mul"]
    np.testing.assert_array_equal(module.graph.nodes[1].inputs[1].const, f32([1, 0.5, 0.25, 0.125]))
