"""Gather*, Scatter*, NonZero and OneHot converters against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper


@pytest.mark.parametrize(("axis", "indices"), [(0, [2, -1, 0]), (1, [[0, 3], [1, 1]]), (-1, 2)])
def test_gather(check, make_model, axis, indices):
    feeds = {"x": np.random.default_rng(1).uniform(-1, 1, (3, 4, 5)).astype(np.float32)}
    model = make_model(
        [helper.make_node("Gather", ["x", "i"], ["y"], axis=axis)],
        feeds,
        ["y"],
        initializers={"i": np.array(indices, np.int64)},
    )
    check(model, feeds)


def test_gather_elements_and_nd(check, make_model):
    rng = np.random.default_rng(2)
    feeds = {"x": rng.uniform(-1, 1, (3, 4)).astype(np.float32)}
    inits = {
        "ie": rng.integers(-3, 3, (2, 4)).astype(np.int64),
        "ind": np.array([[0, 1], [2, 3]], np.int64),
        "inb": np.array([[1], [3], [0]], np.int64),
    }
    nodes = [
        helper.make_node("GatherElements", ["x", "ie"], ["y0"], axis=0),
        helper.make_node("GatherND", ["x", "ind"], ["y1"]),
        helper.make_node("GatherND", ["x", "inb"], ["y2"], batch_dims=1),
    ]
    check(make_model(nodes, feeds, ["y0", "y1", "y2"], initializers=inits, opset=13), feeds)


@pytest.mark.parametrize(("reduction", "opset"), [("none", 11), ("add", 16), ("max", 18)])
def test_scatter_nd_and_elements(check, make_model, reduction, opset):
    rng = np.random.default_rng(3)
    feeds = {
        "x": rng.uniform(-1, 1, (4, 5)).astype(np.float32),
        "u": rng.uniform(-1, 1, (2, 5)).astype(np.float32),
    }
    inits = {
        "ind": np.array([[1], [3]], np.int64),
        "ie": np.array([[0, 1, 2, 3, 0], [3, 2, 1, 0, 2]], np.int64),
    }
    attrs = {} if reduction == "none" else {"reduction": reduction}
    nodes = [
        helper.make_node("ScatterND", ["x", "ind", "u"], ["y0"], **attrs),
        helper.make_node("ScatterElements", ["x", "ie", "u"], ["y1"], axis=0, **attrs),
    ]
    check(make_model(nodes, feeds, ["y0", "y1"], initializers=inits, opset=opset), feeds)


def test_scatter_v9_is_scatter_elements(check, make_model):
    rng = np.random.default_rng(4)
    feeds = {
        "x": rng.uniform(-1, 1, (3, 3)).astype(np.float32),
        "u": rng.uniform(-1, 1, (1, 2)).astype(np.float32),
    }
    inits = {"i": np.array([[1, 2]], np.int64)}
    node = helper.make_node("Scatter", ["x", "i", "u"], ["y"], axis=1)
    module = check(make_model([node], feeds, ["y"], initializers=inits, opset=9), feeds)
    assert module.graph.nodes[0].op_type == "ScatterElements"


def test_nonzero_on_constant_folds(check, make_model):
    feeds = {"x": np.random.default_rng(5).uniform(-1, 1, (2, 3)).astype(np.float32)}
    nodes = [
        helper.make_node("NonZero", ["mask"], ["nz"]),
        helper.make_node("Transpose", ["nz"], ["idx"]),
        helper.make_node("GatherND", ["x", "idx"], ["y"]),
    ]
    inits = {"mask": np.array([[1, 0, 1], [0, 1, 0]], np.int64)}
    module = check(make_model(nodes, feeds, ["y"], initializers=inits, opset=13), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["GatherND"]


@pytest.mark.parametrize(
    ("axis", "values"), [(-1, np.array([0, 1], np.float32)), (0, np.array([-2, 5], np.int64))]
)
def test_onehot(check, make_model, axis, values):
    feeds = {"i": np.array([[0, 2], [3, -1]], np.int64)}
    inits = {"d": np.array(4, np.int64), "v": values}
    node = helper.make_node("OneHot", ["i", "d", "v"], ["y"], axis=axis)
    module = check(make_model([node], feeds, ["y"], initializers=inits, opset=11), feeds)
    assert module.graph.outputs[0].name == "y_OneHot"
