"""MatMul, Gemm and Einsum converters against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper


@pytest.mark.parametrize(
    ("ashape", "bshape"),
    [((3, 4), (4, 5)), ((2, 3, 4), (4, 6)), ((2, 1, 3, 4), (5, 4, 2)), ((4,), (4, 3))],
)
def test_matmul_shapes(check, make_model, ashape, bshape):
    rng = np.random.default_rng(1)
    feeds = {
        "a": rng.uniform(-1, 1, ashape).astype(np.float32),
        "b": rng.uniform(-1, 1, bshape).astype(np.float32),
    }
    check(make_model([helper.make_node("MatMul", ["a", "b"], ["y"])], feeds, ["y"]), feeds)


GEMM_CASES = [
    {},
    {"transB": 1},
    {"transA": 1, "transB": 1, "alpha": 0.5, "beta": 2.0},
    {"alpha": 1.5},
]


#: (C's shape or None, opset): C became optional in opset 11, so "no C" is opset 13 only.
GEMM_C_OPSETS = [((5,), 7), ((1, 5), 7), ((3, 5), 7), ((5,), 13), ((1, 5), 13), ((3, 5), 13),
                 (None, 13)]  # fmt: skip


@pytest.mark.parametrize("attrs", GEMM_CASES)
@pytest.mark.parametrize(("c_shape", "opset"), GEMM_C_OPSETS)
def test_gemm_with_constant_weights_is_one_matmul(check, make_model, attrs, c_shape, opset):
    rng = np.random.default_rng(2)
    a_shape = (4, 3) if attrs.get("transA") else (3, 4)
    b_shape = (5, 4) if attrs.get("transB") else (4, 5)
    feeds = {"a": rng.uniform(-1, 1, a_shape).astype(np.float32)}
    inits = {"b": rng.uniform(-1, 1, b_shape).astype(np.float32)}
    ins = ["a", "b"]
    if c_shape is not None:
        inits["c"] = rng.uniform(-1, 1, c_shape).astype(np.float32)
        ins.append("c")
    node = helper.make_node("Gemm", ins, ["y"], **attrs)
    module = check(make_model([node], feeds, ["y"], initializers=inits, opset=opset), feeds)
    ops = [n.op_type for n in module.graph.nodes]
    assert ops[-1] == "MatMul"
    assert ops.count("MatMul") == 1
    assert module.graph.outputs[0].name == "y_Gemm"


@pytest.mark.parametrize("attrs", GEMM_CASES)
def test_gemm_with_runtime_operands(check, make_model, attrs):
    rng = np.random.default_rng(3)
    a_shape = (4, 3) if attrs.get("transA") else (3, 4)
    b_shape = (5, 4) if attrs.get("transB") else (4, 5)
    feeds = {
        "a": rng.uniform(-1, 1, a_shape).astype(np.float32),
        "b": rng.uniform(-1, 1, b_shape).astype(np.float32),
        "c": rng.uniform(-1, 1, (3, 5)).astype(np.float32),
    }
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], **attrs)
    module = check(make_model([node], feeds, ["y"]), feeds)
    assert module.graph.outputs[0].name == "y_Gemm"


@pytest.mark.parametrize(
    ("eq", "shapes"),
    [
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("ij->ji", [(3, 4)]),
        ("bhqd,bhkd->bhqk", [(1, 2, 3, 4), (1, 2, 5, 4)]),
    ],
)
def test_einsum(check, make_model, eq, shapes):
    rng = np.random.default_rng(4)
    feeds = {f"x{i}": rng.uniform(-1, 1, s).astype(np.float32) for i, s in enumerate(shapes)}
    node = helper.make_node("Einsum", list(feeds), ["y"], equation=eq)
    check(make_model([node], feeds, ["y"], opset=12), feeds)
