"""Shape converters and import-time folding of shape subgraphs."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper


def _x(shape, seed=0):
    return {"x": np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)}


@pytest.mark.parametrize(
    ("spec", "allowzero"), [([0, -1], 0), ([2, 3, 4], 0), ([-1], 0), ([4, 0, 2], 0), ([2, 12], 1)]
)
def test_reshape_resolves_zero_and_minus_one(check, make_model, spec, allowzero):
    feeds = _x((2, 3, 4))
    node = helper.make_node("Reshape", ["x", "s"], ["y"], allowzero=allowzero)
    model = make_model([node], feeds, ["y"], initializers={"s": np.array(spec, np.int64)}, opset=14)
    module = check(model, feeds)
    (reshape,) = module.graph.nodes
    assert all(d > 0 for d in reshape.attrs["shape"])


@pytest.mark.parametrize(("axis", "opset"), [(0, 9), (1, 9), (2, 13), (-1, 13)])
def test_flatten(check, make_model, axis, opset):
    feeds = _x((2, 3, 4, 5))
    model = make_model(
        [helper.make_node("Flatten", ["x"], ["y"], axis=axis)], feeds, ["y"], opset=opset
    )
    module = check(model, feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Reshape"]


@pytest.mark.parametrize("opset", [11, 13])
@pytest.mark.parametrize("axes", [[1], [-1, 1], None])
def test_squeeze_unsqueeze(check, make_model, opset, axes):
    feeds = _x((2, 1, 3, 1))
    inits = {}
    if opset < 13:
        sq = helper.make_node("Squeeze", ["x"], ["s"], **({"axes": axes} if axes else {}))
        un = helper.make_node("Unsqueeze", ["s"], ["y"], axes=[0, -1])
    else:
        sq = helper.make_node("Squeeze", ["x", "ax"] if axes else ["x"], ["s"])
        un = helper.make_node("Unsqueeze", ["s", "ux"], ["y"])
        inits = {"ux": np.array([0, -1], np.int64)}
        if axes:
            inits["ax"] = np.array(axes, np.int64)
    module = check(make_model([sq, un], feeds, ["s", "y"], initializers=inits, opset=opset), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Reshape", "Reshape"]


@pytest.mark.parametrize("perm", [None, [0, 2, 1, 3], [3, 1, 0, 2]])
def test_transpose(check, make_model, perm):
    feeds = _x((2, 3, 4, 5))
    attrs = {"perm": perm} if perm else {}
    check(make_model([helper.make_node("Transpose", ["x"], ["y"], **attrs)], feeds, ["y"]), feeds)


def test_shape_gather_concat_reshape_chain_folds_into_one_reshape(check, make_model):
    feeds = _x((2, 3, 4, 5))
    nodes = [
        helper.make_node("Shape", ["x"], ["shp"]),
        helper.make_node("Gather", ["shp", "i0"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["x", "target"], ["y"]),
        helper.make_node("Relu", ["y"], ["z"]),
    ]
    inits = {
        "i0": np.array(0, np.int64),
        "ax0": np.array([0], np.int64),
        "minus1": np.array([-1], np.int64),
    }
    module = check(make_model(nodes, feeds, ["z"], initializers=inits, opset=13), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Reshape", "Relu"]
    assert module.graph.nodes[0].attrs["shape"] == (2, 60)
    assert module.graph.nodes[0].outputs[0].name == "y_Reshape"


@pytest.mark.parametrize(("start", "end"), [(None, None), (1, None), (-2, -1), (1, 100)])
def test_shape_start_end_folds(check, make_model, start, end):
    feeds = _x((2, 3, 4))
    attrs = {k: v for k, v in (("start", start), ("end", end)) if v is not None}
    nodes = [
        helper.make_node("Shape", ["x"], ["s"], **attrs),
        helper.make_node("Size", ["x"], ["n"]),
        helper.make_node("Cast", ["s"], ["sf"], to=TensorProto.FLOAT),
        helper.make_node("Cast", ["n"], ["nf"], to=TensorProto.FLOAT),
        helper.make_node("ReduceSum", ["sf"], ["t"], keepdims=0),
        helper.make_node("Add", ["t", "nf"], ["u"]),
        helper.make_node("Add", ["x", "u"], ["y"]),
    ]
    module = check(make_model(nodes, feeds, ["y"], opset=15), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Add"]


def test_expand_tile(check, make_model):
    feeds = _x((3, 1))
    nodes = [
        helper.make_node("Expand", ["x", "shape"], ["e"]),
        helper.make_node("Tile", ["e", "reps"], ["y"]),
    ]
    inits = {"shape": np.array([2, 3, 4], np.int64), "reps": np.array([1, 2, 1], np.int64)}
    check(make_model(nodes, feeds, ["e", "y"], initializers=inits), feeds)


def test_constant_of_shape_and_range_fold(check, make_model):
    feeds = _x((2, 5))
    value = helper.make_tensor("v", TensorProto.FLOAT, [1], [0.5])
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("ConstantOfShape", ["s"], ["c"], value=value),
        helper.make_node("Range", ["r0", "r1", "r2"], ["r"]),
        helper.make_node("Cast", ["r"], ["rf"], to=TensorProto.FLOAT),
        helper.make_node("Add", ["c", "rf"], ["t"]),
        helper.make_node("Mul", ["x", "t"], ["y"]),
    ]
    inits = {"r0": np.array(1, np.int64), "r1": np.array(11, np.int64), "r2": np.array(2, np.int64)}
    module = check(make_model(nodes, feeds, ["y"], initializers=inits), feeds)
    assert [n.op_type for n in module.graph.nodes] == ["Mul"]


def test_constant_of_shape_int64_fill_is_exact(check, make_model):
    feeds = {"x": np.array([5], np.int64)}
    big = np.iinfo(np.int64).max
    value = helper.make_tensor("v", TensorProto.INT64, [1], [big])
    nodes = [
        helper.make_node("ConstantOfShape", ["s"], ["c"], value=value),
        helper.make_node("Min", ["c", "x"], ["m"]),
        helper.make_node("Equal", ["c", "b"], ["y"]),
    ]
    inits = {"s": np.array([3], np.int64), "b": np.array([big], np.int64)}
    check(make_model(nodes, feeds, ["m", "y"], initializers=inits), feeds)


def test_reshape_with_runtime_shape_fails_clearly(make_model, run_ours):
    from sophonc.errors import SophonError

    feeds = {"x": np.zeros((2, 3), np.float32), "s": np.array([3, 2], np.int64)}
    model = make_model([helper.make_node("Reshape", ["x", "s"], ["y"], name="r")], feeds, ["y"])
    with pytest.raises(SophonError, match=r"Reshape node 'r': input 1 's' \(the target shape\)"):
        run_ours(model, feeds)
