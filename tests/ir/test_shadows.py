"""Aliases and shadows: names a fusion removed, kept on the surviving tensor."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.ir.shadows import Shadow, add_alias, alias_names, carry, shadow_values, shadows
from sophonc.ir.text import load_module, save_module


def value(name: str = "y") -> Value:
    return Value(name, TensorType("f32", (1, 2, 3)))


def test_an_alias_is_a_unit_shadow_and_duplicates_collapse() -> None:
    y = value()
    add_alias(y, "conv_Conv")
    add_alias(y, "conv_Conv")
    add_alias(y, "y")  # its own name is never recorded
    assert shadows(y) == [Shadow("conv_Conv")]
    assert alias_names(y) == ["conv_Conv"]


def test_carry_composes_affine_shadows_along_the_channel_axis() -> None:
    # c = conv result, aliased as "k"; m = c * s; y = m + t (both folded away).
    c, m, y = value("c"), value("m"), value("y")
    add_alias(c, "k")
    s = np.array([2.0, 4.0])
    t = np.array([1.0, -3.0])
    carry(c, m, 1.0 / s, 0.0)  # c = m / s
    carry(m, y, 1.0, -t)  # m = y - t
    found = {sh.name: sh for sh in shadows(y)}
    assert set(found) == {"m", "c", "k"}
    data = np.random.default_rng(0).normal(size=(1, 2, 3)).astype(np.float32)
    want_m = data - t.reshape(1, 2, 1)
    want_c = want_m / s.reshape(1, 2, 1)
    np.testing.assert_allclose(shadow_values(found["m"], data), want_m, rtol=1e-6)
    np.testing.assert_allclose(shadow_values(found["c"], data), want_c, rtol=1e-6)
    np.testing.assert_allclose(shadow_values(found["k"], data), want_c, rtol=1e-6)


def test_shadows_along_the_last_axis_and_through_the_text_form(tmp_path: Path) -> None:
    x = Value("x", TensorType("f32", (2, 3)))
    node = Node("Relu", [x], ["y_Relu"], output_types=[TensorType("f32", (2, 3))])
    carry(
        Value("mm_MatMul", TensorType("f32", (2, 3))), node.output, 1.0, [-1.0, 0.0, 2.0], axis=-1
    )
    save_module(Module("m", Graph("g", [x], [node.output], [node])), tmp_path / "m.mlir",
                tmp_path / "w.npz")  # fmt: skip
    (sh,) = shadows(load_module(tmp_path / "m.mlir").graph.outputs[0])
    assert sh == Shadow("mm_MatMul", (1.0,), (-1.0, 0.0, 2.0), -1)
    data = np.ones((2, 3), np.float32)
    np.testing.assert_array_equal(shadow_values(sh, data), [[0, 1, 3], [0, 1, 3]])
