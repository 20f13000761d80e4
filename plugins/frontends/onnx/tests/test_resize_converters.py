"""Resize (opsets 10-19) and Upsample converters against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper


def _x(shape=(1, 2, 4, 5), seed=0):
    return {"x": np.random.default_rng(seed).uniform(-1, 1, shape).astype(np.float32)}


@pytest.mark.parametrize("mode", ["nearest", "linear"])
@pytest.mark.parametrize("scales", [[1, 1, 2, 2], [1, 1, 0.5, 0.5], [1, 1, 2, 3]])
def test_resize_v10_scales(check, make_model, mode, scales):
    feeds = _x()
    node = helper.make_node("Resize", ["x", "s"], ["y"], mode=mode)
    inits = {"s": np.array(scales, np.float32)}
    check(make_model([node], feeds, ["y"], initializers=inits, opset=10), feeds)


@pytest.mark.parametrize(("opset", "mode"), [(7, "nearest"), (9, "nearest"), (9, "linear")])
def test_upsample(check, make_model, opset, mode):
    feeds = _x()
    scales = [1.0, 1.0, 2.0, 3.0]
    if opset < 9:
        node = helper.make_node("Upsample", ["x"], ["y"], mode=mode, scales=scales)
        inits = {}
    else:
        node = helper.make_node("Upsample", ["x", "s"], ["y"], mode=mode)
        inits = {"s": np.array(scales, np.float32)}
    module = check(make_model([node], feeds, ["y"], initializers=inits, opset=opset), feeds)
    assert module.graph.nodes[0].op_type == "Resize"
    assert module.graph.outputs[0].name == "y_Upsample"


CTMS = ["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"]
NEAREST = ["round_prefer_floor", "round_prefer_ceil", "floor", "ceil"]


@pytest.mark.parametrize("opset", [11, 13, 18])
@pytest.mark.parametrize("ctm", CTMS)
@pytest.mark.parametrize("mode", ["nearest", "linear", "cubic"])
def test_resize_scales(check, make_model, opset, ctm, mode):
    feeds = _x()
    ins = ["x", "roi", "s"] if opset < 13 else ["x", "", "s"]
    inits = {"s": np.array([1, 1, 1.5, 2.25], np.float32)}
    if opset < 13:
        inits["roi"] = np.array([], np.float32)
    node = helper.make_node("Resize", ins, ["y"], mode=mode, coordinate_transformation_mode=ctm)
    check(make_model([node], feeds, ["y"], initializers=inits, opset=opset), feeds, atol=1e-5)


@pytest.mark.parametrize("nearest_mode", NEAREST)
@pytest.mark.parametrize("sizes", [[1, 2, 7, 9], [1, 2, 3, 3]])
def test_resize_sizes_nearest(check, make_model, nearest_mode, sizes):
    feeds = _x()
    inits = {
        "roi": np.array([], np.float32),
        "s": np.array([], np.float32),
        "sz": np.array(sizes, np.int64),
    }
    node = helper.make_node(
        "Resize", ["x", "roi", "s", "sz"], ["y"], mode="nearest", nearest_mode=nearest_mode
    )
    module = check(make_model([node], feeds, ["y"], initializers=inits, opset=11), feeds)
    assert module.graph.nodes[0].attrs["sizes"] == tuple(sizes)


def test_resize_v19_half_pixel_symmetric_and_axes(check, make_model):
    feeds = _x()
    node = helper.make_node(
        "Resize", ["x", "", "", "sz"], ["y"], mode="linear", axes=[2, 3],
        coordinate_transformation_mode="half_pixel_symmetric",
    )  # fmt: skip
    inits = {"sz": np.array([7, 3], np.int64)}
    check(make_model([node], feeds, ["y"], initializers=inits, opset=19), feeds)


@pytest.mark.parametrize("policy", ["not_larger", "not_smaller"])
def test_resize_v18_keep_aspect_ratio(check, make_model, policy):
    feeds = _x()
    node = helper.make_node(
        "Resize",
        ["x", "", "", "sz"],
        ["y"],
        mode="linear",
        axes=[2, 3],
        keep_aspect_ratio_policy=policy,
    )
    inits = {"sz": np.array([8, 6], np.int64)}
    check(make_model([node], feeds, ["y"], initializers=inits, opset=18), feeds)


def test_resize_tf_crop_and_resize_is_rejected(make_model, run_ours):
    from sophonc.errors import SophonError

    feeds = _x()
    inits = {"roi": np.zeros(8, np.float32), "s": np.array([1, 1, 2, 2], np.float32)}
    node = helper.make_node(
        "Resize",
        ["x", "roi", "s"],
        ["y"],
        coordinate_transformation_mode="tf_crop_and_resize",
        name="rz",
    )
    with pytest.raises(SophonError, match=r"Resize node 'rz': .*tf_crop_and_resize"):
        run_ours(make_model([node], feeds, ["y"], initializers=inits, opset=13), feeds)
