"""Concat, Split, Slice, Pad, DepthToSpace/SpaceToDepth and Trilu against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper


def _x(shape, seed=0):
    return {"x": np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)}


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(check, make_model, axis):
    rng = np.random.default_rng(1)
    shape = [2, 3, 4]
    feeds = {}
    for i in range(3):
        s = list(shape)
        s[axis] += i
        feeds[f"x{i}"] = rng.uniform(-1, 1, s).astype(np.float32)
    check(
        make_model([helper.make_node("Concat", list(feeds), ["y"], axis=axis)], feeds, ["y"]), feeds
    )


SPLIT_CASES = [
    (11, {"axis": 1, "split": [1, 2, 3]}, None, 3),
    (11, {"axis": -1}, None, 2),
    (13, {"axis": 1}, [2, 4], 2),
    (13, {"axis": 1}, None, 3),
    (18, {"axis": 1, "num_outputs": 4}, None, 4),
    (18, {"axis": 2}, [1, 3], 2),
]


@pytest.mark.parametrize(("opset", "attrs", "sizes", "n"), SPLIT_CASES)
def test_split_forms(check, make_model, opset, attrs, sizes, n):
    feeds = _x((2, 6, 4))
    outs = [f"y{i}" for i in range(n)]
    ins = ["x", "s"] if sizes else ["x"]
    inits = {"s": np.array(sizes, np.int64)} if sizes else {}
    node = helper.make_node("Split", ins, outs, **attrs)
    module = check(make_model([node], feeds, outs, initializers=inits, opset=opset), feeds)
    assert [v.name for v in module.graph.outputs] == [f"{o}_Split" for o in outs]


SLICE_CASES = [
    ([1, 0], [3, -1], [0, 2], None),
    ([0], [9223372036854775807], [1], None),
    ([-1], [-9223372036854775807], [2], [-1]),
    ([4, 1], [0, 3], [2, 0], [-2, 1]),
    ([1], [100], [-1], [2]),
]


@pytest.mark.parametrize(("starts", "ends", "axes", "steps"), SLICE_CASES)
def test_slice_v10_inputs(check, make_model, starts, ends, axes, steps):
    feeds = _x((4, 5, 6))
    inits = {
        "st": np.array(starts, np.int64),
        "en": np.array(ends, np.int64),
        "ax": np.array(axes, np.int64),
    }
    ins = ["x", "st", "en", "ax"]
    if steps:
        inits["sp"] = np.array(steps, np.int64)
        ins.append("sp")
    check(
        make_model(
            [helper.make_node("Slice", ins, ["y"])], feeds, ["y"], initializers=inits, opset=13
        ),
        feeds,
    )


def test_slice_v1_attributes(check, make_model):
    feeds = _x((4, 5, 6))
    node = helper.make_node("Slice", ["x"], ["y"], starts=[1, -3], ends=[3, 1000], axes=[0, 2])
    check(make_model([node], feeds, ["y"], opset=9), feeds)


PAD_CASES = [
    (11, "constant", [0, 1, 2, 0, 2, 1], 1.5, None),
    (11, "reflect", [0, 0, 2, 0, 0, 1], None, None),
    (11, "edge", [1, 2, 1, 0, 1, 3], None, None),
    (18, "constant", [1, 2], 0.0, [-1]),
    (19, "wrap", [0, 1, 2, 0, 2, 1], None, None),
    (11, "constant", [0, -1, 2, 0, 1, -2], 0.0, None),
]


@pytest.mark.parametrize(("opset", "mode", "pads", "value", "axes"), PAD_CASES)
def test_pad_input_forms(check, make_model, opset, mode, pads, value, axes):
    feeds = _x((2, 4, 5))
    inits = {"p": np.array(pads, np.int64)}
    ins = ["x", "p"]
    if value is not None or axes is not None:
        inits["v"] = np.array(value or 0.0, np.float32)
        ins.append("v")
    if axes is not None:
        inits["a"] = np.array(axes, np.int64)
        ins.append("a")
    node = helper.make_node("Pad", ins, ["y"], mode=mode)
    check(make_model([node], feeds, ["y"], initializers=inits, opset=opset), feeds)


def test_pad_v2_attributes(check, make_model):
    feeds = _x((1, 2, 3, 3))
    node = helper.make_node("Pad", ["x"], ["y"], pads=[0, 0, 1, 2, 0, 0, 2, 1], value=-1.0)
    check(make_model([node], feeds, ["y"], opset=9), feeds)


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space_and_back(check, make_model, mode):
    feeds = _x((1, 8, 3, 2))
    nodes = [
        helper.make_node("DepthToSpace", ["x"], ["d"], blocksize=2, mode=mode),
        helper.make_node("SpaceToDepth", ["d"], ["y"], blocksize=2),
    ]
    check(make_model(nodes, feeds, ["d", "y"]), feeds)


@pytest.mark.parametrize(("upper", "k"), [(1, None), (0, 1), (1, -1)])
def test_trilu(check, make_model, upper, k):
    feeds = _x((2, 4, 5))
    inits = {"k": np.array(k, np.int64)} if k is not None else {}
    node = helper.make_node("Trilu", ["x", "k"] if k is not None else ["x"], ["y"], upper=upper)
    check(make_model([node], feeds, ["y"], initializers=inits, opset=14), feeds)
