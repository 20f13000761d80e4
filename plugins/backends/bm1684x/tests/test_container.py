"""The bmodel around a program: tensors, coefficient memory, the command group, and
what ``read_program`` refuses. Read back with core's ``read_bmodel``."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np
import pytest

from sophonc.api import DeployOptions
from sophonc.errors import ModelLoadError, SophonError
from sophonc.formats.bmodel import BModelDType, CmdGroup, read_bmodel, write_bmodel
from sophonc.ir import Graph, Module, Node, QuantType, TensorType, Value
from sophonc_backend_bm1684x.backend import BM1684XBackend
from sophonc_backend_bm1684x.codegen.container import build_bmodel, read_program
from sophonc_backend_bm1684x.codegen.encoding import encode_program
from sophonc_backend_bm1684x.codegen.memory import CTX, plan_memory

#: GMEM_START_ADDR of the BM1684X, where both regions start.
GMEM = 0x1_0000_0000
assert GMEM == 4294967296


@pytest.fixture
def int8_program(models: Any, flow: Any) -> Module:
    return flow.program(models.conv_net, 0, "INT8")


def one_line(exc: BaseException) -> str:
    message = str(exc)
    assert "\n" not in message
    return message


def test_the_bmodel_describes_the_program(int8_program: Module) -> None:
    program = int8_program
    placement = plan_memory(program)
    model = read_bmodel(build_bmodel(program, "conv_net"), "conv.bmodel")
    assert model.chip == "BM1684X"
    assert model.type_tag == "B"
    assert model.version.startswith("2.2+sophonc-")
    assert [net.name for net in model.nets] == ["conv_net"]
    (stage,) = model.nets[0].stages
    # context region: activations, at GMEM; neuron size = the context size
    assert stage.ctx_addr == GMEM
    assert stage.ctx_size == placement.ctx_size
    assert model.neuron_size == placement.ctx_size
    # net inputs and outputs: f32, their shapes, their places in the context region
    for tensors, values, hidden in (
        (stage.input_tensors, program.graph.inputs, 1),
        (stage.output_tensors, program.graph.outputs, 2),
    ):
        assert [t.name for t in tensors] == [v.name for v in values]
        for index, (t, v) in enumerate(zip(tensors, values, strict=True)):
            region, offset, size = placement.slots[v.name]
            assert region == CTX
            assert t.dtype is BModelDType.F32
            assert t.shape == v.shape
            assert t.device_addr == GMEM + offset
            assert t.size == size == 4 * int(np.prod(v.shape))
            assert (t.scale, t.zero_point) == (1.0, 0)
            assert (t.hidden, t.index) == (hidden, index)
    assert [t.name for t in stage.input_tensors] == ["x"]
    assert [t.shape for t in stage.output_tensors] == [(1, 8, 4, 4), (1, 8, 8, 8)]
    # coefficient region: every weight's bytes at its offset, SHA-256 check code
    coeff = stage.coeff_mem
    assert coeff is not None
    assert coeff.address == GMEM
    assert coeff.data == placement.coeff
    assert coeff.check_code == hashlib.sha256(placement.coeff).digest()
    weights = program.graph.weights()
    assert [(loc.name, loc.offset, loc.size) for loc in coeff.locations] == [
        (w.name, placement.slots[w.name][1], placement.slots[w.name][2]) for w in weights
    ]
    for w in weights:
        _, offset, size = placement.slots[w.name]
        assert coeff.data[offset : offset + size] == np.ascontiguousarray(w.const).tobytes()
    # the program: one command group, one "BDC command" per node, no GDMA
    (group,) = stage.cmd_groups
    code = encode_program(program, placement)
    assert group.bdc == code
    assert (group.bdc_num, group.bdc_cmd_byte) == (len(program.graph.nodes), len(code))
    assert (group.gdma_num, group.gdma, group.gdma_cmd_byte) == (0, b"", 0)
    (sub,) = stage.sub_nets
    assert sub.cmd_groups == stage.cmd_groups
    assert (sub.id, sub.next_subnet_ids) == (0, (-1,))


def test_quantized_net_outputs_carry_scale_and_zero_point() -> None:
    x = Value("x", TensorType("f32", (2, 3)))
    q = QuantType("u8", (0.5,), (3,), qmin=0, qmax=255)
    cast = Node("Cast", [x], [Value("y", TensorType("u8", (2, 3)), quant=q)])
    program = Module("q", Graph("q", [x], [cast.output], [cast]))
    model = read_bmodel(build_bmodel(program, "q"))
    (y,) = model.nets[0].stages[0].output_tensors
    assert (y.dtype, y.scale, y.zero_point, y.size) == (BModelDType.U8, 0.5, 3, 6)
    # x (24 bytes) lives while y is written: y goes to the next 64-byte slot
    assert y.device_addr == GMEM + 64
    assert model.nets[0].stages[0].coeff_mem is None


def test_a_net_output_a_bmodel_cannot_describe_is_one_line() -> None:
    x = Value("x", TensorType("f32", (2,)))
    node = Node("FloatOp", [x], [Value("i", TensorType("i64", (1,)))], {"top_op": "ArgMax"})
    program = Module("argmax", Graph("argmax", [x], [node.output], [node]))
    with pytest.raises(SophonError, match="i64") as info:
        build_bmodel(program, "argmax")
    assert "cannot describe" in one_line(info.value)


def test_same_program_same_bytes(models: Any, flow: Any) -> None:
    first = build_bmodel(flow.program(models.conv_net, 0, "INT8"), "net")
    assert build_bmodel(flow.program(models.conv_net, 0, "INT8"), "net") == first
    program = flow.program(models.onnx_net, 0, "F16")
    assert build_bmodel(program, "net") == build_bmodel(program, "net")


def test_the_backend_codegen_is_build_bmodel(int8_program: Module) -> None:
    options = DeployOptions(quantize="INT8", model_name="conv_net")
    assert BM1684XBackend().codegen(int8_program, options) == build_bmodel(int8_program, "conv_net")


def test_source_date_epoch_changes_only_the_time(
    int8_program: Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    unset = build_bmodel(int8_program, "net")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")
    assert build_bmodel(int8_program, "net") == unset
    # 365 days after Thursday 1970-01-01 (not a leap year): Friday 1971-01-01
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(365 * 86400))
    later = build_bmodel(int8_program, "net")
    a, b = read_bmodel(unset), read_bmodel(later)
    assert a.time == "Thu Jan  1 00:00:00 1970\n"
    assert b.time == "Fri Jan  1 00:00:00 1971\n"
    assert dataclasses.replace(b, time=a.time) == a
    # byte for byte: same length, the only differing bytes inside the time string
    assert len(later) == len(unset)
    at = unset.index(a.time.encode())
    assert later[at : at + len(b.time)] == b.time.encode()
    differ = [i for i in range(len(unset)) if unset[i] != later[i]]
    assert differ and all(at <= i < at + len(a.time) for i in differ)


def test_a_bad_source_date_epoch_is_one_line(
    int8_program: Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(SophonError, match="SOURCE_DATE_EPOCH 'yesterday'") as info:
        build_bmodel(int8_program, "net")
    one_line(info.value)


# ------------------------------------------------------------------------ read_program
def test_read_program_gives_back_program_and_placement(int8_program: Module) -> None:
    decoded = read_program(build_bmodel(int8_program, "conv_net"), "conv.bmodel")
    assert decoded.slots == plan_memory(int8_program).slots
    assert decoded.program.name == "conv_net"
    got = [(n.op_type, n.name) for n in decoded.program.graph.nodes]
    assert got == [(n.op_type, n.name) for n in int8_program.graph.nodes]


def test_model_inputs_come_back_with_their_attributes(int8_program: Module) -> None:
    (x,) = int8_program.graph.inputs
    x.meta.update({"pixel_format": "rgb", "mean": (0.0, 127.5, 255.0), "resize_dims": ()})
    inputs = BM1684XBackend().model_inputs(build_bmodel(int8_program, "net"))
    assert [(v.name, v.type) for v in inputs] == [("x", x.type)]
    assert inputs[0].meta == x.meta
    assert isinstance(inputs[0].meta["threshold"], float)  # recorded by the quantizer


def _rewrite(data: bytes, **changes: Any) -> bytes:
    """The bmodel with fields of the model (or, with ``stage=``, of its stage) changed."""
    model = read_bmodel(data)
    stage_changes = changes.pop("stage", None)
    if stage_changes is not None:
        net = model.nets[0]
        stage = dataclasses.replace(net.stages[0], **stage_changes)
        changes["nets"] = (dataclasses.replace(net, stages=(stage,)),)
    return write_bmodel(dataclasses.replace(model, **changes))


def test_a_bmodel_for_another_chip_is_refused_in_one_line(int8_program: Module) -> None:
    data = build_bmodel(int8_program, "net")
    for chip in ("BM1684", "BM1688", "CV183X"):
        with pytest.raises(SophonError, match=f"compiled for {chip}, not BM1684X") as info:
            read_program(_rewrite(data, chip=chip), "other.bmodel")
        assert one_line(info.value).startswith("other.bmodel")
    # the chip name is compared without case
    assert read_program(_rewrite(data, chip="bm1684x"), "lower.bmodel").program.graph.nodes


def test_a_bmodel_without_our_program_is_refused_in_one_line(int8_program: Module) -> None:
    data = build_bmodel(int8_program, "net")
    foreign = CmdGroup.of(3, 1, bytes(range(64)) * 3, bytes(96))
    with pytest.raises(ModelLoadError, match="no sophonc BM1684X program") as info:
        read_program(_rewrite(data, stage={"cmd_groups": (foreign,), "sub_nets": ()}), "f.bmodel")
    one_line(info.value)
    with pytest.raises(SophonError, match="no commands") as info:
        read_program(_rewrite(data, stage={"cmd_groups": (), "sub_nets": ()}), "e.bmodel")
    one_line(info.value)


def test_bytes_that_are_not_a_bmodel_are_refused_in_one_line(int8_program: Module) -> None:
    data = build_bmodel(int8_program, "net")
    for bad in (b"", b"not a bmodel at all", data[:100], data[: len(data) // 2]):
        with pytest.raises(ModelLoadError) as info:
            read_program(bad, "bad.bmodel")
        assert one_line(info.value).startswith("bad.bmodel")
