"""Conv, ConvTranspose and pooling converters against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper


def _x(seed, *shape):
    return {"x": np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)}


CONV_CASES = [
    ({"pads": [1, 1, 1, 1]}, (8, 3, 3, 3)),
    ({"strides": [2, 2], "pads": [0, 1, 2, 1]}, (8, 3, 3, 3)),
    ({"dilations": [2, 1], "pads": [2, 1, 2, 1]}, (8, 3, 3, 3)),
    ({"group": 3}, (6, 1, 3, 3)),
    ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, (4, 3, 4, 4)),
    ({"auto_pad": "SAME_LOWER", "strides": [2, 2]}, (4, 3, 4, 4)),
    ({"auto_pad": "VALID", "strides": [2, 1]}, (4, 3, 3, 2)),
]


@pytest.mark.parametrize(("attrs", "wshape"), CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(check, make_model, attrs, wshape, bias):
    rng = np.random.default_rng(1)
    feeds = _x(0, 2, 3, 9, 11)
    inits = {"w": rng.uniform(-1, 1, wshape).astype(np.float32)}
    ins = ["x", "w"]
    if bias:
        inits["b"] = rng.uniform(-1, 1, wshape[0]).astype(np.float32)
        ins.append("b")
    model = make_model(
        [helper.make_node("Conv", ins, ["y"], **attrs)], feeds, ["y"], initializers=inits
    )
    module = check(model, feeds)
    (conv,) = module.graph.nodes
    assert conv.op_type == "Conv"
    assert len(conv.attrs["pads"]) == 4


@pytest.mark.parametrize("rank", [1, 3])
def test_conv_1d_3d(check, make_model, rank):
    rng = np.random.default_rng(2)
    spatial = (7,) * rank
    feeds = _x(3, 1, 2, *spatial)
    w = rng.uniform(-1, 1, (4, 2, *(3,) * rank)).astype(np.float32)
    node = helper.make_node(
        "Conv", ["x", "w"], ["y"], pads=[1] * (2 * rank), kernel_shape=[3] * rank
    )
    check(make_model([node], feeds, ["y"], initializers={"w": w}), feeds)


CONVT_CASES = [
    {"strides": [2, 2]},
    {"strides": [2, 2], "pads": [1, 0, 1, 0], "output_padding": [1, 1]},
    {"strides": [3, 2], "dilations": [1, 2]},
    {"strides": [2, 2], "output_shape": [18, 22]},
    {"strides": [2, 2], "output_shape": [19, 23]},
    {"strides": [2, 2], "auto_pad": "SAME_UPPER"},
    {"strides": [2, 2], "auto_pad": "SAME_LOWER"},
    {"group": 2, "strides": [1, 1]},
]


@pytest.mark.parametrize("attrs", CONVT_CASES)
def test_conv_transpose(check, make_model, attrs):
    rng = np.random.default_rng(4)
    feeds = _x(5, 1, 4, 9, 11)
    cout = 3 if attrs.get("group", 1) == 1 else 2
    inits = {
        "w": rng.uniform(-1, 1, (4, cout, 3, 3)).astype(np.float32),
        "b": rng.uniform(-1, 1, cout * attrs.get("group", 1)).astype(np.float32),
    }
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)
    check(make_model([node], feeds, ["y"], initializers=inits), feeds)


POOL_CASES = [
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}, 8),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "ceil_mode": 1}, 12),
    ("MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2]}, 12),
    ("MaxPool", {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_UPPER"}, 12),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}, 7),
    ("AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1}, 11),
    ("AveragePool", {"kernel_shape": [3, 2], "strides": [2, 2], "ceil_mode": 1}, 19),
    ("AveragePool", {"kernel_shape": [3, 3], "strides": [2, 2], "auto_pad": "SAME_LOWER"}, 11),
    ("LpPool", {"kernel_shape": [2, 2], "p": 2}, 11),
]


@pytest.mark.parametrize(("op", "attrs", "opset"), POOL_CASES)
def test_pools(check, make_model, op, attrs, opset):
    feeds = _x(6, 2, 3, 9, 10)
    model = make_model([helper.make_node(op, ["x"], ["y"], **attrs)], feeds, ["y"], opset=opset)
    check(model, feeds)


@pytest.mark.parametrize("op", ["GlobalAveragePool", "GlobalMaxPool"])
def test_global_pools(check, make_model, op):
    feeds = _x(7, 2, 3, 5, 6)
    check(make_model([helper.make_node(op, ["x"], ["y"])], feeds, ["y"]), feeds)


def test_maxpool_indices_output_fails_clearly(make_model, run_ours):
    from sophonc.errors import SophonError

    feeds = _x(8, 1, 1, 4, 4)
    nodes = [
        helper.make_node("MaxPool", ["x"], ["y", "idx"], kernel_shape=[2, 2], name="mp"),
        helper.make_node("Cast", ["idx"], ["z"], to=1),
    ]
    with pytest.raises(SophonError, match=r"MaxPool node 'mp': output 1 'idx' is used"):
        run_ours(make_model(nodes, feeds, ["z"]), feeds)
