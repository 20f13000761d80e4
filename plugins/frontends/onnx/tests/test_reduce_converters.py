"""Reduce*, ArgMax/ArgMin, TopK and CumSum converters against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

REDUCE_OPS = [
    "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
    "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp", "ReduceLogSum",
]  # fmt: skip


def _x(seed=0):
    return {"x": np.random.default_rng(seed).uniform(0.2, 1.5, (2, 3, 4)).astype(np.float32)}


@pytest.mark.parametrize("op", REDUCE_OPS)
@pytest.mark.parametrize("opset", [11, 18])
@pytest.mark.parametrize(("axes", "keepdims"), [([1], 1), ([0, -1], 0), (None, 1)])
def test_reduce_forms(check, make_model, op, opset, axes, keepdims):
    feeds = _x()
    input_form = opset >= 18 or (op == "ReduceSum" and opset >= 13)
    inits = {}
    if input_form:
        ins = ["x", "axes"] if axes is not None else ["x"]
        if axes is not None:
            inits["axes"] = np.array(axes, np.int64)
        node = helper.make_node(op, ins, ["y"], keepdims=keepdims)
    else:
        attrs = {"axes": axes} if axes is not None else {}
        node = helper.make_node(op, ["x"], ["y"], keepdims=keepdims, **attrs)
    check(make_model([node], feeds, ["y"], initializers=inits, opset=opset), feeds, rtol=1e-5)


def test_reduce_sum_v13_axes_input(check, make_model):
    feeds = _x(1)
    node = helper.make_node("ReduceSum", ["x", "a"], ["y"], keepdims=0)
    model = make_model(
        [node], feeds, ["y"], initializers={"a": np.array([2, 0], np.int64)}, opset=13
    )
    check(model, feeds)


def test_reduce_noop_with_empty_axes_is_identity(check, make_model):
    feeds = _x(2)
    node = helper.make_node("ReduceMean", ["x"], ["y"], noop_with_empty_axes=1)
    module = check(make_model([node], feeds, ["y"], opset=18), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Identity"]


@pytest.mark.parametrize("op", ["ArgMax", "ArgMin"])
@pytest.mark.parametrize(("axis", "keepdims", "last"), [(1, 1, 0), (-1, 0, 1)])
def test_argmax_argmin(check, make_model, op, axis, keepdims, last):
    feeds = {"x": np.random.default_rng(3).integers(0, 3, (3, 4, 5)).astype(np.float32)}
    node = helper.make_node(op, ["x"], ["y"], axis=axis, keepdims=keepdims, select_last_index=last)
    check(make_model([node], feeds, ["y"], opset=13), feeds)


@pytest.mark.parametrize(("opset", "largest"), [(9, 1), (10, 1), (11, 0)])
def test_topk(check, make_model, opset, largest):
    feeds = {"x": np.random.default_rng(4).permutation(60).reshape(3, 4, 5).astype(np.float32)}
    if opset < 10:
        node = helper.make_node("TopK", ["x"], ["v", "i"], k=3, axis=1)
        inits = {}
    else:
        attrs = {"largest": largest} if opset >= 11 else {}
        node = helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=-1, **attrs)
        inits = {"k": np.array([2], np.int64)}
    module = check(make_model([node], feeds, ["v", "i"], initializers=inits, opset=opset), feeds)
    assert [v.name for v in module.graph.outputs] == ["v_TopK", "i_TopK"]


@pytest.mark.parametrize(
    ("exclusive", "reverse", "axis"), [(0, 0, 1), (1, 0, -1), (0, 1, 0), (1, 1, 2)]
)
def test_cumsum(check, make_model, exclusive, reverse, axis):
    feeds = _x(5)
    node = helper.make_node("CumSum", ["x", "a"], ["y"], exclusive=exclusive, reverse=reverse)
    model = make_model([node], feeds, ["y"], initializers={"a": np.array(axis, np.int64)}, opset=14)
    check(model, feeds)
