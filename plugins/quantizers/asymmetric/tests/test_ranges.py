"""The interval each tensor's codes cover, and its scale and zero point, by hand."""

from __future__ import annotations

import pytest

from sophonc.calibration.table_entry import TableEntry
from sophonc.ir import Node, TensorType, Value
from sophonc_quant_asymmetric.quantizer import asymmetric_type
from sophonc_quant_asymmetric.ranges import Interval, tensor_interval


def entry(lo: float, hi: float) -> TableEntry:
    """A table row; the threshold column is ignored by this scheme."""
    return TableEntry(max(abs(lo), abs(hi)), lo, hi)


def producer(op: str, n_inputs: int = 1, **attrs: object) -> Node:
    """A node of type ``op`` reading fresh activations (or one activation twice)."""
    x = Value("x", TensorType("f32", (1, 4)))
    inputs = [x] * n_inputs
    return Node(op, inputs, ["y"], attrs)


def test_a_graph_input_takes_the_table_min_and_max() -> None:
    assert tensor_interval(None, entry(-1.0, 3.0)) == Interval(-1.0, 3.0)


def test_the_interval_is_widened_to_contain_zero() -> None:
    assert tensor_interval(producer("Add", 2), entry(0.5, 2.0)) == Interval(0.0, 2.0)
    assert tensor_interval(producer("Sub", 2), entry(-3.0, -1.0)) == Interval(-3.0, 0.0)


@pytest.mark.parametrize(
    "node",
    [
        producer("Relu"),
        producer("Abs"),
        producer("Conv", do_relu=True),
        producer("Mul", 2),  # x · x
    ],
    ids=["Relu", "Abs", "fused-relu", "square"],
)
def test_ops_that_cannot_be_negative_get_a_zero_floor(node: Node) -> None:
    # A table written elsewhere may carry a tiny negative min (rounding, a shadow).
    assert tensor_interval(node, entry(-0.01, 4.0)) == Interval(0.0, 4.0)


def test_a_fused_relu_limit_caps_the_top() -> None:
    node = producer("Conv", do_relu=True, relu_limit=6.0)
    assert tensor_interval(node, entry(0.0, 7.5)) == Interval(0.0, 6.0)
    # relu_limit = -1 means no upper bound
    node = producer("Conv", do_relu=True, relu_limit=-1.0)
    assert tensor_interval(node, entry(0.0, 7.5)) == Interval(0.0, 7.5)


@pytest.mark.parametrize("op", ["Sigmoid", "Softmax"])
def test_unit_range_ops_cover_zero_to_one_whatever_the_table_says(op: str) -> None:
    assert tensor_interval(producer(op), entry(0.1, 0.9)) == Interval(0.0, 1.0)


def test_a_hard_sigmoid_keeps_its_calibrated_part_of_zero_to_one() -> None:
    # a squeeze-excite gate seen in [0.006, 0.35]: its codes cover [0, 0.35], a step
    # of 0.35/255 instead of 1/255
    assert tensor_interval(producer("HardSigmoid"), entry(0.006, 0.35)) == Interval(0.0, 0.35)
    assert tensor_interval(producer("HardSigmoid"), entry(-0.2, 1.3)) == Interval(0.0, 1.0)


def test_a_mul_of_two_different_tensors_keeps_its_sign() -> None:
    a = Value("a", TensorType("f32", (2,)))
    b = Value("b", TensorType("f32", (2,)))
    node = Node("Mul", [a, b], ["y"])
    assert tensor_interval(node, entry(-0.5, 4.0)) == Interval(-0.5, 4.0)


def test_signed_interval_gets_int8_and_a_nudged_zero_point() -> None:
    q = asymmetric_type(Interval(-1.0, 3.0), unsigned_allowed=True)
    # scale = (3 - (-1)) / 255 = 4/255; real zero point = -128 - (-1)/(4/255)
    # = -128 + 63.75 = -64.25, rounded half away from zero → -64.
    assert (q.storage, q.qmin, q.qmax) == ("i8", -128, 127)
    assert q.scale == (4.0 / 255.0,)
    assert q.zero_point == (-64,)


def test_non_negative_interval_gets_uint8_with_zero_point_zero() -> None:
    q = asymmetric_type(Interval(0.0, 2.0), unsigned_allowed=True)
    # scale = 2/255, real zero point = 0 - 0/scale = 0: the symmetric uint8 type.
    assert (q.storage, q.scale, q.zero_point, q.qmin, q.qmax) == ("u8", (2.0 / 255,), (0,), 0, 255)


def test_without_unsigned_storage_a_non_negative_interval_sits_at_the_bottom_of_int8() -> None:
    q = asymmetric_type(Interval(0.0, 2.0), unsigned_allowed=False)
    # scale = 2/255, real zero point = -128 - 0 = -128: code -128 is real 0.
    assert (q.storage, q.scale, q.zero_point) == ("i8", (2.0 / 255,), (-128,))


def test_a_non_positive_interval_puts_zero_at_the_top() -> None:
    q = asymmetric_type(Interval(-0.5, 0.0), unsigned_allowed=True)
    # scale = 0.5/255, real zero point = -128 + 0.5/(0.5/255) = -128 + 255 = 127.
    assert (q.storage, q.zero_point) == ("i8", (127,))
    assert q.scale[0] == pytest.approx(0.5 / 255, rel=1e-15)


def test_an_all_zero_interval_still_represents_zero() -> None:
    q = asymmetric_type(Interval(0.0, 0.0), unsigned_allowed=True)
    assert (q.storage, q.scale, q.zero_point) == ("u8", (1.0,), (0,))
