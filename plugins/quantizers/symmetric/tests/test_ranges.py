"""The symmetric range of a tensor from its table row and its producer, by hand."""

from __future__ import annotations

import pytest

from sophonc.calibration.table_entry import TableEntry
from sophonc.ir import Node, TensorType, Value
from sophonc_quant_symmetric.ranges import Range, tensor_range


def producer(op: str) -> Node:
    return Node(op, [Value("x", TensorType("f32", (1, 4)))], ["y"])


@pytest.mark.parametrize("op", ["Sigmoid", "Softmax"])
def test_sigmoid_and_softmax_are_forced_to_zero_one(op: str) -> None:
    assert tensor_range(producer(op), TableEntry(0.4, 0.01, 0.4)) == Range(1.0, False)


def test_a_hard_sigmoid_keeps_its_threshold_and_is_unsigned() -> None:
    # TPU-MLIR's table threshold for the classifier's first gate: 0.3547488, stored u8
    # with a step of 0.3547488/255 (its tpu.Lut output), not 1/255
    assert tensor_range(producer("HardSigmoid"), TableEntry(0.3547488, 0.0061786, 0.3547488)) == (
        Range(0.3547488, False)
    )
    assert tensor_range(producer("HardSigmoid"), TableEntry(1.2, -0.1, 1.2)) == Range(1.0, False)


def test_the_sign_follows_the_table_min_otherwise() -> None:
    assert tensor_range(producer("Add"), TableEntry(2.0, -0.5, 2.0)) == Range(2.0, True)
    assert tensor_range(producer("Add"), TableEntry(2.0, 0.0, 2.0)) == Range(2.0, False)
