"""The structural invariants every pass must keep."""

from __future__ import annotations

import numpy as np
import pytest

from sophonc.errors import IRError
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.ir.verify import verify_module

F = TensorType("f32", (2,))


def test_a_well_formed_module_passes_including_weight_outputs() -> None:
    x = Value("x", F)
    w = Value.weight("w", np.ones((2,), np.float32))
    add = Node("Add", [x, w], ["y_Add"], output_types=[F])
    verify_module(Module("m", Graph("g", [x], [add.output, w], [add])))


def test_duplicate_names_are_refused() -> None:
    x = Value("x", F)
    n = Node("Relu", [x], ["x"], output_types=[F])
    with pytest.raises(IRError, match=r"two values are named 'x'"):
        verify_module(Module("m", Graph("g", [x], [n.output], [n])))


def test_use_before_definition_is_refused() -> None:
    x = Value("x", F)
    a = Node("Relu", [x], ["a_Relu"], output_types=[F])
    b = Node("Relu", [a.output], ["b_Relu"], output_types=[F])
    with pytest.raises(IRError, match=r"reads 'a_Relu' before it is defined"):
        verify_module(Module("m", Graph("g", [x], [b.output], [b, a])))


def test_a_stale_use_list_is_refused() -> None:
    x = Value("x", F)
    a = Node("Relu", [x], ["a_Relu"], output_types=[F])
    x._add_use(a, 5)
    with pytest.raises(IRError, match=r"use list of 'x'"):
        verify_module(Module("m", Graph("g", [x], [a.output], [a])))


def test_an_undefined_graph_output_is_refused() -> None:
    x = Value("x", F)
    stray = Value("stray", F)
    with pytest.raises(IRError, match=r"graph output 'stray'"):
        verify_module(Module("m", Graph("g", [x], [stray], [])))
