"""Constant, Identity, Dropout and CastLike converters."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper


@pytest.mark.parametrize(
    "attr",
    [
        {"value": numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(2, 3))},
        {"value_float": 2.5},
        {"value_floats": [1.0, -1.0, 0.5]},
        {"value_int": 3},
        {"value_ints": [1, 2, 3]},
    ],
)
def test_constant_forms_become_weights(check, make_model, attr):
    feeds = {"x": np.random.default_rng(1).uniform(-1, 1, (2, 3)).astype(np.float32)}
    nodes = [
        helper.make_node("Constant", [], ["c"], **attr),
        helper.make_node("CastLike", ["c", "x"], ["cf"]),
        helper.make_node("Add", ["x", "cf"], ["y"]),
    ]
    module = check(make_model(nodes, feeds, ["y"], opset=15), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Add"]
    weight_names = [w.name for w in module.graph.weights()]
    assert weight_names == ["cf_CastLike"] or weight_names == ["c"]


@pytest.mark.parametrize("opset", [12, 13])
def test_identity_and_dropout_become_identity(check, make_model, opset):
    feeds = {"x": np.random.default_rng(2).uniform(-1, 1, (2, 3)).astype(np.float32)}
    nodes = [
        helper.make_node("Identity", ["x"], ["i"]),
        helper.make_node("Dropout", ["i"], ["d", "mask"]),
        helper.make_node("Cast", ["mask"], ["mf"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["d", "mf"], ["y"]),
    ]
    module = check(make_model(nodes, feeds, ["y"], opset=opset), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Identity", "Identity", "Mul"]
    assert [n.outputs[0].name for n in module.graph.nodes] == ["i_Identity", "d_Dropout", "y_Mul"]


def test_integer_tensors_keep_their_dtype(check, make_model):
    feeds = {"x": np.arange(12, dtype=np.int32).reshape(3, 4)}
    nodes = [
        helper.make_node("Transpose", ["x"], ["t"]),
        helper.make_node("Cast", ["t"], ["c"], to=TensorProto.INT64),
        helper.make_node("Mul", ["c", "k"], ["y"]),
    ]
    module = check(
        make_model(nodes, feeds, ["y"], initializers={"k": np.array(3, np.int64)}), feeds
    )
    assert module.graph.outputs[0].dtype == "i64"
    assert module.graph.nodes[0].outputs[0].dtype == "i32"


def test_old_dropout_without_mask(check, make_model):
    feeds = {"x": np.random.default_rng(3).uniform(-1, 1, (2, 3)).astype(np.float32)}
    nodes = [helper.make_node("Dropout", ["x"], ["d"], ratio=0.3)]
    module = check(make_model(nodes, feeds, ["d"], opset=7), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Identity"]
