"""Elementwise and activation converters against onnxruntime."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

BINARY = ["Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean"]
COMPARE = ["Equal", "Less", "LessOrEqual", "Greater", "GreaterOrEqual"]
UNARY = [
    "Relu", "Sigmoid", "Tanh", "Exp", "Abs", "Neg", "Floor", "Ceil", "Round", "Sign",
    "Erf", "Sin", "Cos", "Softplus", "Softsign", "Tan",
]  # fmt: skip


@pytest.mark.parametrize("op", BINARY)
@pytest.mark.parametrize("opset", [8, 13])
def test_binary_broadcast_matches_onnxruntime(check, make_model, op, opset):
    rng = np.random.default_rng(1)
    feeds = {
        "a": rng.uniform(-2, 2, (2, 3, 4)).astype(np.float32),
        "b": rng.uniform(0.5, 2, (3, 1)).astype(np.float32),
    }
    model = make_model([helper.make_node(op, ["a", "b"], ["y"])], feeds, ["y"], opset=opset)
    check(model, feeds)


def test_integer_div_truncates_like_onnx(check, make_model):
    feeds = {
        "a": np.array([7, -7, 9, -9], np.int64),
        "b": np.array([2, 2, -4, -4], np.int64),
    }
    model = make_model([helper.make_node("Div", ["a", "b"], ["y"])], feeds, ["y"])
    check(model, feeds)


@pytest.mark.parametrize("op", COMPARE)
def test_comparisons_give_bool(check, make_model, op):
    rng = np.random.default_rng(2)
    feeds = {
        "a": rng.integers(0, 3, (4, 5)).astype(np.float32),
        "b": rng.integers(0, 3, (5,)).astype(np.float32),
    }
    model = make_model([helper.make_node(op, ["a", "b"], ["y"])], feeds, ["y"])
    check(model, feeds)


@pytest.mark.parametrize("op", ["And", "Or", "Xor"])
def test_logical_ops(check, make_model, op):
    rng = np.random.default_rng(3)
    feeds = {
        "a": rng.integers(0, 2, (3, 4)).astype(bool),
        "b": rng.integers(0, 2, (4,)).astype(bool),
    }
    nodes = [helper.make_node(op, ["a", "b"], ["t"]), helper.make_node("Not", ["t"], ["y"])]
    check(make_model(nodes, feeds, ["y"]), feeds)


@pytest.mark.parametrize("op", UNARY)
def test_unary_math(check, make_model, op):
    feeds = {"x": np.random.default_rng(4).uniform(-1.2, 1.2, (2, 3, 5)).astype(np.float32)}
    check(make_model([helper.make_node(op, ["x"], ["y"])], feeds, ["y"]), feeds)


@pytest.mark.parametrize("op", ["Log", "Sqrt", "Reciprocal"])
def test_unary_positive_domain(check, make_model, op):
    feeds = {"x": np.random.default_rng(5).uniform(0.1, 3, (4, 6)).astype(np.float32)}
    check(make_model([helper.make_node(op, ["x"], ["y"])], feeds, ["y"]), feeds)


def test_mish_v18(check, make_model):
    feeds = {"x": np.random.default_rng(6).uniform(-3, 3, (2, 8)).astype(np.float32)}
    check(make_model([helper.make_node("Mish", ["x"], ["y"])], feeds, ["y"], opset=18), feeds)


def test_pow_with_integer_exponent(check, make_model):
    feeds = {"x": np.random.default_rng(7).uniform(0.5, 2, (3, 4)).astype(np.float32)}
    model = make_model(
        [helper.make_node("Pow", ["x", "e"], ["y"])],
        feeds,
        ["y"],
        initializers={"e": np.array(3, np.int64)},
        opset=15,
    )
    check(model, feeds)


@pytest.mark.parametrize("fmod", [0, 1])
def test_mod(check, make_model, fmod):
    rng = np.random.default_rng(8)
    if fmod:
        feeds = {"a": rng.uniform(-5, 5, (6,)).astype(np.float32), "b": np.full(6, 1.5, np.float32)}
    else:
        feeds = {
            "a": rng.integers(-9, 9, (6,)).astype(np.int64),
            "b": np.array([2, -3, 4, 5, -2, 3], np.int64),
        }
    model = make_model([helper.make_node("Mod", ["a", "b"], ["y"], fmod=fmod)], feeds, ["y"])
    check(model, feeds)


def test_where_and_isnan_isinf(check, make_model):
    x = np.array([1.0, np.nan, np.inf, -np.inf, -2.0, 0.0], np.float32)
    feeds = {"x": x}
    nodes = [
        helper.make_node("IsNaN", ["x"], ["nan"]),
        helper.make_node("IsInf", ["x"], ["inf"]),
        helper.make_node("IsInf", ["x"], ["pinf"], detect_negative=0),
        helper.make_node("IsInf", ["x"], ["ninf"], detect_positive=0),
        helper.make_node("Or", ["nan", "inf"], ["bad"]),
        helper.make_node("Where", ["bad", "zero", "x"], ["y"]),
    ]
    model = make_model(
        nodes, feeds, ["y", "pinf", "ninf"], initializers={"zero": np.zeros(1, np.float32)}
    )
    check(model, feeds)


ACTIVATIONS = [
    ("LeakyRelu", {"alpha": 0.1}, 7),
    ("Elu", {"alpha": 0.7}, 7),
    ("Selu", {}, 7),
    ("Celu", {"alpha": 1.3}, 13),
    ("ThresholdedRelu", {"alpha": 0.4}, 11),
    ("HardSigmoid", {"alpha": 0.3, "beta": 0.4}, 7),
    ("HardSwish", {}, 14),
    ("Gelu", {}, 20),
    ("Gelu", {"approximate": "tanh"}, 20),
]


@pytest.mark.parametrize(("op", "attrs", "opset"), ACTIVATIONS)
def test_activations(check, make_model, op, attrs, opset):
    feeds = {"x": np.random.default_rng(9).uniform(-4, 4, (2, 3, 7)).astype(np.float32)}
    model = make_model([helper.make_node(op, ["x"], ["y"], **attrs)], feeds, ["y"], opset=opset)
    check(model, feeds)


@pytest.mark.parametrize("slope_shape", [(3, 1, 1), (1,), (5,), (3,)])
def test_prelu_slope_is_made_broadcastable(check, make_model, slope_shape, run_ours):
    rng = np.random.default_rng(10)
    x_shape = (2, 3, 4, 5)
    feeds = {"x": rng.uniform(-2, 2, x_shape).astype(np.float32)}
    slope = rng.uniform(0, 0.5, slope_shape).astype(np.float32)
    model = make_model(
        [helper.make_node("PRelu", ["x", "s"], ["y"])], feeds, ["y"], initializers={"s": slope}
    )
    if slope_shape == (3,):
        # Not valid ONNX broadcasting; old exporters meant it per channel.
        module, ours = run_ours(model, feeds)
        want = np.where(feeds["x"] >= 0, feeds["x"], feeds["x"] * slope.reshape(1, 3, 1, 1))
        np.testing.assert_allclose(next(iter(ours.values())), want, rtol=1e-6)
        return
    module = check(model, feeds)
    (prelu,) = [n for n in module.graph.nodes if n.op_type == "PRelu"]
    assert len(prelu.inputs[1].shape) == 4


@pytest.mark.parametrize("opset", [7, 11, 13])
def test_clip_attribute_and_input_forms(check, make_model, opset):
    feeds = {"x": np.random.default_rng(11).uniform(-3, 3, (4, 5)).astype(np.float32)}
    if opset < 11:
        nodes = [helper.make_node("Clip", ["x"], ["y"], min=-1.0, max=0.5)]
        inits = {}
    else:
        nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])]
        inits = {"lo": np.array(-1.0, np.float32), "hi": np.array(0.5, np.float32)}
    check(make_model(nodes, feeds, ["y"], initializers=inits, opset=opset), feeds)


def test_clip_with_only_max(check, make_model):
    feeds = {"x": np.random.default_rng(12).uniform(-3, 3, (4, 5)).astype(np.float32)}
    nodes = [helper.make_node("Clip", ["x", "", "hi"], ["y"])]
    model = make_model(nodes, feeds, ["y"], initializers={"hi": np.array(6.0, np.float32)})
    check(model, feeds)


def test_clip_with_runtime_bound_fails_clearly(make_model, run_ours):
    from sophonc.errors import SophonError

    feeds = {"x": np.zeros((2, 2), np.float32), "m": np.zeros((), np.float32)}
    model = make_model([helper.make_node("Clip", ["x", "m"], ["y"], name="clip0")], feeds, ["y"])
    with pytest.raises(
        SophonError, match=r"Clip node 'clip0': input 1 'm' .*compile-time constant"
    ):
        run_ours(model, feeds)


@pytest.mark.parametrize(
    ("to", "dtype"),
    [(7, np.int64), (6, np.int32), (9, np.bool_), (1, np.float32), (10, np.float16)],
)
def test_cast(check, make_model, to, dtype):
    feeds = {"x": np.random.default_rng(13).uniform(-5, 5, (3, 4)).astype(np.float32)}
    model = make_model([helper.make_node("Cast", ["x"], ["y"], to=to)], feeds, ["y"], opset=13)
    check(model, feeds)
