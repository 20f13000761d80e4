"""A max-pool's range goes back to its single-use input, as TPU-MLIR 1.30.2 does.

The cases mirror a graph built for the official toolchain with a hand-written
table (every tensor a different threshold): a chain ``Conv → MaxPool → MaxPool``
of single-use tensors ends up with the last pool's threshold everywhere; a Conv
read by a MaxPool and another op keeps its own; a MaxPool on the graph input
leaves the input alone.
"""

from __future__ import annotations

import numpy as np

from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc_backend_bm1684x.target import BM1684X_TARGET
from sophonc_quant_asymmetric.quantizer import AsymmetricQuantizer
from sophonc_quant_symmetric.quantizer import SymmetricQuantizer

POOL = {"kernel_shape": (2, 2), "strides": (1, 1), "pads": (0, 0, 0, 0)}


def conv(rng: np.random.Generator, x: Value, name: str, size: int) -> Node:
    w = Value.weight(f"{name}_w", rng.normal(0, 0.3, (4, 4, 1, 1)).astype(np.float32))
    return Node(
        "Conv",
        [x, w],
        [name],
        {"kernel_shape": (1, 1)},
        output_types=[TensorType("f32", (1, 4, size, size))],
    )


def pool(x: Value, name: str, size: int, op: str = "MaxPool") -> Node:
    return Node(op, [x], [name], POOL, output_types=[TensorType("f32", (1, 4, size, size))])


def module_and_table() -> tuple[Module, CalibrationTable]:
    rng = np.random.default_rng(3)
    x = Value("x", TensorType("f32", (1, 4, 8, 8)))
    a = conv(rng, x, "a_Conv", 8)
    m1 = pool(a.output, "m1_MaxPool", 7)
    m2 = pool(m1.output, "m2_MaxPool", 6)
    o1 = conv(rng, m2.output, "o1_Conv", 6)
    b = conv(rng, x, "b_Conv", 8)
    m3 = pool(b.output, "m3_MaxPool", 7)
    c = conv(rng, b.output, "c_Conv", 8)
    m4 = pool(x, "m4_MaxPool", 7)
    o4 = conv(rng, m4.output, "o4_Conv", 7)
    nodes = [a, m1, m2, o1, b, m3, c, m4, o4]
    outputs = [o1.output, m3.output, c.output, o4.output]
    names = [n.outputs[0].name for n in nodes]
    table = CalibrationTable(
        {
            name: TableEntry(t, -t, t)
            for name, t in zip(["x", *names], np.arange(len(names) + 1) * 0.5 + 1.5, strict=True)
        }
    )
    return Module("m", Graph("g", [x], outputs, nodes)), table


def thresholds(module: Module) -> dict[str, float]:
    return {v.name: float(v.meta["threshold"]) for v in module.graph.values().values() if v.quant}


def test_a_single_use_chain_takes_the_last_pools_range() -> None:
    module, table = module_and_table()
    SymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {})
    got = thresholds(module)
    last = float(table["m2_MaxPool"].threshold)
    assert got["a_Conv"] == got["m1_MaxPool"] == got["m2_MaxPool"] == last
    # b_Conv is also read by c_Conv: it keeps its own row
    assert got["b_Conv"] == float(table["b_Conv"].threshold)
    # the graph input is never re-typed
    assert got["x"] == float(table["x"].threshold)
    values = module.graph.values()
    for name in ("a_Conv", "m1_MaxPool"):
        assert values[name].quant == values["m2_MaxPool"].quant


def test_a_qtable_float_pool_gives_nothing_back() -> None:
    module, table = module_and_table()
    SymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {"m2_MaxPool": "F16"})
    got = thresholds(module)
    assert got["m1_MaxPool"] == float(table["m1_MaxPool"].threshold)
    assert got["a_Conv"] == float(table["m1_MaxPool"].threshold)


def test_the_asymmetric_scheme_takes_the_pools_interval_too() -> None:
    module, table = module_and_table()
    AsymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {})
    values = module.graph.values()
    assert values["a_Conv"].quant == values["m2_MaxPool"].quant
    assert values["b_Conv"].quant != values["m3_MaxPool"].quant
