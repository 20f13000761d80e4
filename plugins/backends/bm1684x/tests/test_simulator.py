"""The simulator runs the bmodel through device memory and must equal the
interpreted program bit for bit; a placement that lets two live values share bytes
must make it differ (so it really reads and writes memory)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from sophonc.api import DeployOptions
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.errors import ShapeError, SophonError
from sophonc.ir import Module
from sophonc_backend_bm1684x.backend import BM1684XBackend
from sophonc_backend_bm1684x.codegen import container
from sophonc_backend_bm1684x.codegen.container import build_bmodel
from sophonc_backend_bm1684x.codegen.memory import CTX, Placement, align, plan_memory
from sophonc_backend_bm1684x.program.executor import run_program
from sophonc_backend_bm1684x.simulator import simulate

Arrays = Mapping[str, npt.NDArray[Any]]
MODES = ("INT8", "F16", "BF16", "F32")
BUILDERS = ("conv_net", "onnx_net", "filter_net", "deconv_net")


def assert_bit_exact(got: Arrays, want: Arrays) -> None:
    assert sorted(got) == sorted(want)
    for name, w in want.items():
        g = got[name]
        assert g.dtype == w.dtype, name
        assert g.shape == w.shape, name
        assert g.tobytes() == w.tobytes(), name


def feeds_for(program: Module, seed: int, gain: float) -> dict[str, npt.NDArray[np.float32]]:
    rng = np.random.default_rng(seed)
    return {
        v.name: (gain * rng.standard_normal(v.shape)).astype(np.float32)
        for v in program.graph.inputs
    }


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("builder", BUILDERS)
def test_simulator_equals_program(builder: str, mode: str, models: Any, flow: Any) -> None:
    program = flow.program(getattr(models, builder), 7, mode)
    bmodel = build_bmodel(program, builder)
    node_outputs = {o.name for n in program.graph.nodes for o in n.outputs}
    every_value = node_outputs | {v.name for v in program.graph.inputs}
    # ordinary inputs, and inputs 20x too large (saturating every int8 cast)
    for seed, gain in ((0, 1.0), (1, 1.0), (2, 20.0)):
        feeds = feeds_for(program, seed, gain)
        outputs = run_program(program, feeds)
        assert list(outputs) == [v.name for v in program.graph.outputs]
        assert_bit_exact(simulate(bmodel, feeds), outputs)
        assert_bit_exact(simulate(bmodel, feeds, raw=True), run_program(program, feeds, raw=True))
        dumped = run_program(program, feeds, dump_all=True)
        assert set(dumped) == every_value
        assert_bit_exact(simulate(bmodel, feeds, dump_all=True), dumped)
        raw_dump = run_program(program, feeds, dump_all=True, raw=True)
        assert_bit_exact(simulate(bmodel, feeds, dump_all=True, raw=True), raw_dump)


def test_simulator_with_a_calibration_table_written_by_hand(models: Any, flow: Any) -> None:
    module = models.conv_net(11)
    names = [v.name for v in module.graph.inputs] + [
        o.name for n in module.graph.nodes for o in n.outputs
    ]
    assert names == ["x", "r1_Relu", "r2_Clip", "a_Add", "m_Mul", "p_MaxPool"]
    table = CalibrationTable(
        {
            "x": TableEntry(2.5, -2.5, 2.4),
            "r1_Relu": TableEntry(3.0, 0.0, 3.0),
            "r2_Clip": TableEntry(6.0, 0.0, 6.0),
            "a_Add": TableEntry(7.0, 0.0, 7.0),
            "m_Mul": TableEntry(7.0, -0.3, 7.0),
            "p_MaxPool": TableEntry(7.0, -0.3, 7.0),
        }
    )
    program = flow.lower(module, "INT8", table)
    assert {n.op_type for n in program.graph.nodes} >= {"Conv", "Add", "Lut", "Move", "Cast"}
    bmodel = build_bmodel(program, "hand")
    for seed in range(3):
        feeds = feeds_for(program, seed, 1.5)
        assert_bit_exact(
            simulate(bmodel, feeds, dump_all=True), run_program(program, feeds, dump_all=True)
        )


def test_the_backend_runs_the_same(models: Any, flow: Any) -> None:
    backend = BM1684XBackend()
    program = flow.program(models.onnx_net, 2, "INT8")
    bmodel = backend.codegen(program, DeployOptions(quantize="INT8", model_name="onnx_net"))
    feeds = feeds_for(program, 3, 1.0)
    assert_bit_exact(backend.simulate(bmodel, feeds), backend.run_program(program, feeds))
    assert_bit_exact(
        backend.simulate(bmodel, feeds, dump_all=True),
        backend.run_program(program, feeds, dump_all=True),
    )


# --------------------------------------------------------------------- broken memory
def _moved(monkeypatch: pytest.MonkeyPatch, value: str, to: str | int) -> None:
    """Make codegen place ``value`` at ``to`` (another value's offset, or a number)."""
    real = plan_memory

    def tampered(program: Module) -> Placement:
        good = real(program)
        slots = dict(good.slots)
        region, _, size = slots[value]
        offset = slots[to][1] if isinstance(to, str) else to
        slots[value] = (region, offset, size)
        ctx = max(good.ctx_size, align(offset + size))
        return Placement(slots, ctx, good.coeff, good.coeff_names)

    monkeypatch.setattr(container, "plan_memory", tampered)


def test_two_live_values_sharing_bytes_change_the_result(
    models: Any, flow: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    program = flow.program(models.conv_net, 7, "INT8")
    by_name = {o.name: (i, n) for i, n in enumerate(program.graph.nodes) for o in n.outputs}
    # r1_Relu (the first conv's output) is read by the second conv and by the Add; the
    # second conv writes r2_Clip, which the Add reads too: both live at the Add.
    r1_at, _ = by_name["r1_Relu"]
    r2_at, r2_node = by_name["r2_Clip"]
    add_at, add_node = next((i, n) for i, n in enumerate(program.graph.nodes) if n.op_type == "Add")
    assert r1_at < r2_at < add_at
    assert [v.name for v in r2_node.inputs[:1]] == ["r1_Relu"]
    assert {v.name for v in add_node.inputs} == {"r1_Relu", "r2_Clip"}
    good = plan_memory(program)
    assert good.slots["r1_Relu"][0] == good.slots["r2_Clip"][0] == CTX
    assert good.slots["r1_Relu"][2] == good.slots["r2_Clip"][2]  # same size: a clean overwrite
    feeds = feeds_for(program, 0, 1.0)
    want = run_program(program, feeds)

    # control: moving r2_Clip to fresh bytes past the end changes nothing
    _moved(monkeypatch, "r2_Clip", good.ctx_size)
    assert_bit_exact(simulate(build_bmodel(program, "net"), feeds), want)

    # r2_Clip written over r1_Relu before the Add reads r1_Relu: the Add sees r2 twice
    _moved(monkeypatch, "r2_Clip", "r1_Relu")
    broken = simulate(build_bmodel(program, "net"), feeds, dump_all=True)
    assert not np.array_equal(broken["a_Add"], want["a_Add"])
    assert not np.array_equal(broken["p_MaxPool"], want["p_MaxPool"])
    # the values written before the overwrite are still right
    dumped = run_program(program, feeds, dump_all=True)
    assert np.array_equal(broken["r2_Clip"], dumped["r2_Clip"])
    assert np.array_equal(broken["x_i8"], dumped["x_i8"])


# ------------------------------------------------------------------------ bad inputs
def test_missing_and_misshapen_inputs_are_one_line_errors(models: Any, flow: Any) -> None:
    program = flow.program(models.filter_net, 0, "INT8")
    bmodel = build_bmodel(program, "net")
    feeds = feeds_for(program, 0, 1.0)
    with pytest.raises(SophonError, match="missing input 'k'") as info:
        simulate(bmodel, {"x": feeds["x"]})
    assert "\n" not in str(info.value)
    with pytest.raises(ShapeError, match=r"input 'x' has shape \[1, 2, 5\]") as shape_info:
        simulate(bmodel, {"x": feeds["x"][..., 0], "k": feeds["k"]})
    assert "\n" not in str(shape_info.value)
