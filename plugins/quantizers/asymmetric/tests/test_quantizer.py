"""The asymmetric quantizer on small modules: types, precisions, aliases, isolation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.deploy import DeployRequest, check_request
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.ir.shadows import add_alias
from sophonc.plugins.registry import load_backend, load_quantizer
from sophonc_backend_bm1684x.target import BM1684X_TARGET
from sophonc_quant_asymmetric.quantizer import AsymmetricQuantizer


def row(lo: float, hi: float) -> TableEntry:
    return TableEntry(max(abs(lo), abs(hi)), lo, hi)


def small_module() -> Module:
    """x → Conv{do_relu} → Sigmoid; Conv → Add(x-sized constant) → LayerNormalization."""
    rng = np.random.default_rng(3)
    x = Value("x", TensorType("f32", (1, 2, 4, 4)))
    w = Value.weight("w", rng.normal(0, 0.5, (2, 2, 1, 1)).astype(np.float32))
    conv = Node("Conv", [x, w], ["c_Conv"], {"kernel_shape": [1, 1], "do_relu": True})
    sig = Node("Sigmoid", [conv.output], ["s_Sigmoid"])
    k = Value.weight("k", rng.normal(0, 1, (1, 2, 1, 1)).astype(np.float32))
    add = Node("Add", [x, k], ["a_Add"])
    ln = Node("LayerNormalization", [add.output], ["n_LayerNormalization"], {"axis": -1})
    graph = Graph("small", [x], [sig.output, ln.output], [conv, sig, add, ln])
    return Module("small", graph)


def test_every_calibrated_tensor_gets_its_zero_point_type() -> None:
    module = small_module()
    table = CalibrationTable(
        {"x": row(-1.0, 3.0), "c_Conv": row(0.0, 5.1), "s_Sigmoid": row(0.2, 0.7),
         "a_Add": row(-2.0, 2.5)}
    )  # fmt: skip
    AsymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {})
    v = module.graph.values()
    # x: [-1, 3] → scale 4/255, zero point round(-128 + 63.75) = -64 (see test_ranges)
    assert (v["x"].quant.storage, v["x"].quant.zero_point) == ("i8", (-64,))  # type: ignore[union-attr]
    # the fused ReLU's output: [0, 5.1] → uint8, scale 5.1/255 = 0.02, zero point 0
    c = v["c_Conv"].quant
    assert c is not None and (c.storage, c.scale, c.zero_point) == ("u8", (5.1 / 255,), (0,))
    # Sigmoid: forced to [0, 1] → 1/255 whatever the table said
    s = v["s_Sigmoid"].quant
    assert s is not None and (s.storage, s.scale, s.zero_point) == ("u8", (1.0 / 255,), (0,))
    # a_Add: [-2, 2.5] → scale 4.5/255, real zero point -128 + 2/(4.5/255) = -14.67 → -15
    a = v["a_Add"].quant
    assert a is not None and (a.storage, a.zero_point) == ("i8", (-15,))
    assert a.scale[0] == 4.5 / 255
    assert (v["a_Add"].meta["calibrated_min"], v["a_Add"].meta["calibrated_max"]) == (-2.0, 2.5)
    # no row → stays float; the chip's float op list decides LayerNorm's precision
    assert v["n_LayerNormalization"].quant is None
    assert v["n_LayerNormalization"].meta["precision"] == "F16"
    assert v["c_Conv"].meta["precision"] == "INT8"
    assert module.metadata["state"] == "TOP_QUANTIZED"
    assert module.metadata["quantizer"] == "asymmetric"


def test_a_row_found_under_an_alias_name() -> None:
    module = small_module()
    add_alias(module.graph.values()["c_Conv"], "c_Relu")
    table = CalibrationTable({"c_Relu": row(0.0, 2.55)})
    AsymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {})
    c = module.graph.values()["c_Conv"].quant
    assert c is not None and c.scale == (2.55 / 255,) and c.zero_point == (0,)


def test_a_qtable_decides_precision_before_the_target() -> None:
    module = small_module()
    table = CalibrationTable({"x": row(-1.0, 1.0), "c_Conv": row(0.0, 1.0)})
    AsymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {"c_Conv": "F32"})
    assert module.graph.values()["c_Conv"].meta["precision"] == "F32"


def test_concat_of_very_different_spans_runs_in_float() -> None:
    boxes = Value("boxes", TensorType("f32", (1, 8, 4)))
    scores = Value("scores", TensorType("f32", (1, 8, 2)))
    cat = Node("Concat", [boxes, scores], ["out_Concat"], {"axis": 2})
    flat = Node("Reshape", [cat.output], ["r_Reshape"], {"shape": (1, 48)})
    module = Module("det", Graph("det", [boxes, scores], [flat.output], [cat, flat]))
    table = CalibrationTable(
        {"boxes": row(0.0, 640.0), "scores": row(0.0, 1.0), "out_Concat": row(0.0, 640.0),
         "r_Reshape": row(0.0, 640.0)}
    )  # fmt: skip
    AsymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {})
    v = module.graph.values()
    assert v["out_Concat"].meta["precision"] == "F16"
    assert v["r_Reshape"].meta["precision"] == "F16"
    assert v["scores"].quant is not None  # each input keeps its own int8 scale up to the Concat


def test_the_entry_point_and_the_chip_declare_the_scheme() -> None:
    assert isinstance(load_quantizer("asymmetric"), AsymmetricQuantizer)
    check_request(load_backend("bm1684x"), DeployRequest("INT8", table=CalibrationTable(),
                                                         asymmetric=True))  # fmt: skip
    assert "asymmetric" in BM1684X_TARGET.quant_schemes


def test_a_chip_without_unsigned_storage_gets_int8_everywhere() -> None:
    module = small_module()
    table = CalibrationTable({"x": row(-1.0, 3.0), "c_Conv": row(0.0, 5.1)})
    signed_only = replace(BM1684X_TARGET, unsigned_activations=False)
    AsymmetricQuantizer().quantize(module, table, signed_only, {})
    c = module.graph.values()["c_Conv"].quant
    # [0, 5.1] in int8: real 0 sits at the bottom code -128
    assert c is not None and (c.storage, c.scale, c.zero_point) == ("i8", (5.1 / 255,), (-128,))
