"""The measures the search rests on: cut graphs, one-layer programs, accumulated cosines.

The key claim checked here: a layer's harm measured alone (its unit program on
the F32 activations, then the F32 graph after it) equals the harm of the whole
chip program with only that layer in INT8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sophonc.api import DeployOptions
from sophonc.calibration.table import CalibrationTable
from sophonc.interp import Interpreter
from sophonc.ir.text import load_module
from sophonc.npzfile import read_npz
from sophonc.plugins.registry import load_backend
from sophonc_quant_mixed.graph_slices import copy_module, downstream_module
from sophonc_quant_mixed.layers import find_layers, float_overrides, qtable_name
from sophonc_quant_mixed.probes import build_downstream, build_unit
from sophonc_quant_mixed.sensitivity import measure_alone, measure_baseline, references
from sophonc_quant_mixed.similarity import OutputJudge, tensor_cosine
from sophonc_quant_mixed.source import ModelSource


def load(folder: Path) -> tuple[object, list[dict[str, np.ndarray]]]:
    module = load_module(folder / "m.mlir")
    inputs = [read_npz(p) for p in sorted((folder / "samples").glob("*.npz"))[:4]]
    return module, inputs


def judge(module: object, inputs: list[dict[str, np.ndarray]]) -> OutputJudge:
    names = [v.name for v in module.graph.outputs]  # type: ignore[attr-defined]
    interpreter = Interpreter(module)  # type: ignore[arg-type]
    return OutputJudge(names, [interpreter.run(x) for x in inputs])


def test_the_downstream_graph_reproduces_the_reference(hostile: Path) -> None:
    module, inputs = load(hostile)
    ref = Interpreter(module).run(inputs[0], dump_all=True)
    start = module.graph.nodes[0].outputs  # the first conv's output
    cut = downstream_module(module, start)
    assert cut is not None
    feeds = {v.name: ref[v.name] for v in cut.graph.inputs}
    got = Interpreter(cut).run(feeds)
    for v in module.graph.outputs:
        np.testing.assert_array_equal(got[v.name], ref[v.name])


def test_a_copy_is_independent_of_its_original(hostile: Path) -> None:
    module, _ = load(hostile)
    copy = copy_module(module)
    copy.graph.nodes[0].outputs[0].meta["precision"] = "F16"
    assert "precision" not in module.graph.nodes[0].outputs[0].meta
    assert [n.name for n in copy.graph.nodes] == [n.name for n in module.graph.nodes]
    first_weight = module.graph.nodes[0].inputs[1]
    assert first_weight is not None and len(first_weight.uses()) == 1


def test_harm_alone_equals_the_whole_program_with_only_that_layer_int8(hostile: Path) -> None:
    module, inputs = load(hostile)
    backend = load_backend("bm1684x")
    table = CalibrationTable.read(hostile / "m_cali_table")
    source = ModelSource(module, backend)
    base = source.quantized(table, {})
    program = backend.lower(base, DeployOptions(quantize="INT8"))
    baseline = measure_baseline(module, program, backend, inputs, judge(module, inputs))
    layers = find_layers(base, baseline.materialized)
    units = [build_unit(base, layer, backend) for layer in layers]
    downstream = {layer.name: build_downstream(module, layer) for layer in layers}
    scorer = judge(module, inputs)
    harms = measure_alone(units, downstream, backend, references(module, inputs), scorer)
    interpreter = Interpreter(module)
    for layer, harm in zip(layers, harms, strict=True):
        others = {
            qtable_name(n): "F32" for n in module.graph.nodes if qtable_name(n) not in layer.nodes
        }
        mixed = backend.lower(source.quantized(table, others), DeployOptions(quantize="INT8"))
        cos = [scorer.cosine(backend.run_program(mixed, x), interpreter.run(x)) for x in inputs]
        assert harm.harm == pytest.approx(1.0 - float(np.mean(cos)), abs=1e-9)
        assert harm.harm > 0.0


def test_accumulated_cosines_come_from_the_all_int8_program(hostile: Path) -> None:
    module, inputs = load(hostile)
    backend = load_backend("bm1684x")
    base = ModelSource(module, backend).quantized(
        CalibrationTable.read(hostile / "m_cali_table"), {}
    )
    program = backend.lower(base, DeployOptions(quantize="INT8"))
    baseline = measure_baseline(module, program, backend, inputs, judge(module, inputs))
    got = backend.run_program(program, inputs[0], dump_all=True)
    ref = Interpreter(module).run(inputs[0], dump_all=True)
    assert baseline.tensor_cos["ra_Relu"] > baseline.tensor_cos["h_Conv"]
    assert 0.0 < baseline.outputs_cos < 0.99
    assert tensor_cosine(got["h_Conv"], ref["h_Conv"]) < 0.99


def test_moves_after_a_float_layer_follow_it(hostile: Path) -> None:
    module, inputs = load(hostile)
    backend = load_backend("bm1684x")
    base = ModelSource(module, backend).quantized(
        CalibrationTable.read(hostile / "m_cali_table"), {}
    )
    program = backend.lower(base, DeployOptions(quantize="INT8"))
    layers = find_layers(
        base,
        measure_baseline(module, program, backend, inputs[:1], judge(module, inputs)).materialized,
    )
    by_name = {layer.name: layer for layer in layers}
    assert set(by_name) == {"ra_Relu", "rb_Relu", "h_Conv"}
    assert float_overrides(base, [by_name["h_Conv"]], "F16") == {
        "h_Conv": "F16",
        "y_big_Split": "F16",
    }
    assert float_overrides(base, [by_name["ra_Relu"]], "F32") == {"ra_Relu": "F32"}
