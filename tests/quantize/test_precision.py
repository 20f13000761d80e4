"""Qtable names resolve to nodes through the names of tensors fused into them."""

from __future__ import annotations

import numpy as np
import pytest

from sophonc.errors import SophonError
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.ir.shadows import add_alias, carry
from sophonc.quantize.precision import PRECISION, assign_precisions, with_fused_names
from sophonc_backend_bm1684x.target import BM1684X_TARGET


def fused_module() -> Module:
    """x → Conv (a BatchNorm and a Relu fused into it) → Sigmoid."""
    rng = np.random.default_rng(5)
    x = Value("x", TensorType("f32", (1, 2, 4, 4)))
    w = Value.weight("w", rng.normal(0, 0.5, (2, 2, 1, 1)).astype(np.float32))
    conv = Node("Conv", [x, w], ["r_Relu"], {"kernel_shape": [1, 1], "do_relu": True})
    add_alias(conv.output, "c_Conv")  # the official graph keeps the Conv's name
    # and a MulConst after it we folded away: m_MulConst = r_Relu · 0.5
    carry(Value("m_MulConst", TensorType("f32", (1, 2, 4, 4))), conv.output, 0.5, 0.0)
    sig = Node("Sigmoid", [conv.output], ["s_Sigmoid"])
    return Module("fused", Graph("fused", [x], [sig.output], [conv, sig]))


def test_an_alias_or_a_shadow_name_selects_the_node_it_was_fused_into() -> None:
    for name in ("c_Conv", "m_MulConst", "r_Relu"):
        module = fused_module()
        decided = assign_precisions(module, BM1684X_TARGET, {name: "F16"})
        assert decided == {"r_Relu": "F16", "s_Sigmoid": "INT8"}
        assert module.graph.values()["r_Relu"].meta[PRECISION] == "F16"


def test_an_unknown_name_is_still_refused() -> None:
    with pytest.raises(SophonError, match="'nope_Conv', which the model does not have"):
        assign_precisions(fused_module(), BM1684X_TARGET, {"nope_Conv": "F16"})


def test_a_written_qtable_lists_the_fused_names_after_each_layer() -> None:
    written = with_fused_names(fused_module(), {"r_Relu": "F16", "s_Sigmoid": "F32"})
    assert list(written.items()) == [
        ("r_Relu", "F16"), ("c_Conv", "F16"), ("m_MulConst", "F16"), ("s_Sigmoid", "F32"),
    ]  # fmt: skip
