"""Normalisation and softmax converters against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper


@pytest.mark.parametrize("opset", [7, 9, 15])
def test_batchnorm(check, make_model, opset):
    rng = np.random.default_rng(1)
    feeds = {"x": rng.uniform(-2, 2, (2, 4, 5, 6)).astype(np.float32)}
    inits = {
        "s": rng.uniform(0.5, 1.5, 4).astype(np.float32),
        "b": rng.uniform(-1, 1, 4).astype(np.float32),
        "m": rng.uniform(-1, 1, 4).astype(np.float32),
        "v": rng.uniform(0.5, 2, 4).astype(np.float32),
    }
    node = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)
    check(make_model([node], feeds, ["y"], initializers=inits, opset=opset), feeds)


def test_instance_norm(check, make_model):
    rng = np.random.default_rng(2)
    feeds = {"x": rng.uniform(-2, 2, (2, 3, 7, 5)).astype(np.float32)}
    inits = {
        "s": rng.uniform(0.5, 1.5, 3).astype(np.float32),
        "b": rng.uniform(-1, 1, 3).astype(np.float32),
    }
    node = helper.make_node("InstanceNormalization", ["x", "s", "b"], ["y"], epsilon=1e-4)
    check(make_model([node], feeds, ["y"], initializers=inits), feeds)


@pytest.mark.parametrize(("axis", "bias"), [(-1, True), (1, True), (2, False)])
def test_layer_norm(check, make_model, axis, bias):
    rng = np.random.default_rng(3)
    shape = (2, 3, 8)
    feeds = {"x": rng.uniform(-2, 2, shape).astype(np.float32)}
    norm_shape = shape[axis:]
    inits = {"s": rng.uniform(0.5, 1.5, norm_shape).astype(np.float32)}
    ins = ["x", "s"]
    if bias:
        inits["b"] = rng.uniform(-1, 1, norm_shape).astype(np.float32)
        ins.append("b")
    node = helper.make_node("LayerNormalization", ins, ["y"], axis=axis, epsilon=1e-5)
    check(
        make_model([node], feeds, ["y"], initializers=inits, opset=17), feeds, rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize("opset", [18, 21])
def test_group_norm(check, make_model, opset):
    rng = np.random.default_rng(4)
    feeds = {"x": rng.uniform(-2, 2, (2, 6, 4, 3)).astype(np.float32)}
    n = 3 if opset == 18 else 6
    inits = {
        "s": rng.uniform(0.5, 1.5, n).astype(np.float32),
        "b": rng.uniform(-1, 1, n).astype(np.float32),
    }
    node = helper.make_node(
        "GroupNormalization", ["x", "s", "b"], ["y"], num_groups=3, epsilon=1e-5
    )
    module = check(
        make_model([node], feeds, ["y"], initializers=inits, opset=opset), feeds, rtol=1e-4
    )
    (gn,) = [n for n in module.graph.nodes if n.op_type == "GroupNormalization"]
    assert gn.inputs[1].shape == (6,)


def test_lrn(check, make_model):
    feeds = {"x": np.random.default_rng(5).uniform(-2, 2, (1, 6, 4, 4)).astype(np.float32)}
    node = helper.make_node("LRN", ["x"], ["y"], size=3, alpha=1e-3, beta=0.7, bias=1.5)
    check(make_model([node], feeds, ["y"]), feeds)


SOFTMAX_CASES = [(11, 1), (11, 2), (11, -1), (13, 1), (13, -1), (7, 0)]


@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize(("opset", "axis"), SOFTMAX_CASES)
def test_softmax_forms(check, make_model, op, opset, axis):
    feeds = {"x": np.random.default_rng(6).uniform(-3, 3, (2, 3, 4)).astype(np.float32)}
    node = helper.make_node(op, ["x"], ["y"], axis=axis)
    module = check(make_model([node], feeds, ["y"], opset=opset), feeds)
    assert module.graph.outputs[0].name == "y_" + op


def test_softmax_v11_last_axis_is_one_op(check, make_model):
    feeds = {"x": np.random.default_rng(7).uniform(-3, 3, (2, 3, 4)).astype(np.float32)}
    module = check(
        make_model([helper.make_node("Softmax", ["x"], ["y"], axis=2)], feeds, ["y"], opset=11),
        feeds,
    )
    assert [n.op_type for n in module.graph.nodes] == ["Softmax"]
