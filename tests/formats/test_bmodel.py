"""The .bmodel container: round trip, determinism, layout, de-duplication, corruption."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import random
import struct
from collections.abc import Callable
from pathlib import Path

import flatbuffers
import pytest

from sophonc.errors import ModelLoadError
from sophonc.formats.bmodel import (
    HIDDEN_INPUT,
    HIDDEN_OUTPUT,
    BModel,
    BModelDType,
    CmdGroup,
    Net,
    NetStage,
    SubNet,
    TensorInfo,
    create_time,
    describe,
    dtype_from_code,
    dtype_from_ir_name,
    load_bmodel,
    memory_totals,
    read_bmodel,
    save_bmodel,
    write_bmodel,
)
from sophonc.formats.bmodel.flatview import FlatBuffer, Table
from sophonc.formats.bmodel.schema import (
    CmdGroupField,
    CoeffMemField,
    ModelField,
    NetField,
    NetParameterField,
    SubNetField,
)

HEADER_FMT = "<IIIQ"  # magic, header size, flatbuffer size, blob size; then 44 reserved bytes


def split(data: bytes) -> tuple[bytes, bytes]:
    _, header_size, fb_size, blob_size = struct.unpack_from(HEADER_FMT, data, 0)
    blob_start = header_size + fb_size
    return data[header_size:blob_start], data[blob_start : blob_start + blob_size]


def first_stage_table(data: bytes, net: int = 0) -> Table:
    fb, _ = split(data)
    nets = FlatBuffer(fb).root().tables(ModelField.NET, "net")
    assert nets is not None
    params = nets[net].tables(NetField.PARAMETER, "parameter")
    assert params is not None
    return params[0]


def load_error(data: bytes) -> str:
    with pytest.raises(ModelLoadError) as info:
        read_bmodel(data, "m.bmodel")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("m.bmodel: ")
    return message


# -- round trip and determinism ---------------------------------------------------------


def test_round_trip_gives_the_same_model(sample_model: BModel) -> None:
    again = read_bmodel(write_bmodel(sample_model))
    assert again == sample_model
    stage = again.nets[0].stages[0]
    assert [t.dtype for t in stage.input_tensors] == [BModelDType.F32, BModelDType.U8]
    assert [t.dtype for t in stage.output_tensors] == [BModelDType.I8, BModelDType.F16]
    assert stage.output_tensors[0].zero_point == -5
    assert stage.output_tensors[0].scale == pytest.approx(0.0123, rel=1e-7)
    assert json.loads(stage.net_profile) == {"compiler": "sophonc", "layers": 3}
    assert [loc.name for loc in stage.coeff_mem.locations] == ["conv_w", "conv_b"]
    assert again.kernel_module == sample_model.kernel_module


def test_single_static_subnet_is_filled_like_tpu_mlir(sample_model: BModel) -> None:
    stage = read_bmodel(write_bmodel(sample_model)).nets[0].stages[0]
    (sub,) = stage.sub_nets
    assert sub == SubNet(stage.input_tensors, stage.output_tensors, stage.cmd_groups)
    assert (sub.id, sub.next_subnet_ids, sub.subnet_mode) == (0, (-1,), 0)


def test_writing_is_deterministic(sample_model: BModel, build_model: Callable[[], BModel]) -> None:
    first = write_bmodel(sample_model)
    assert write_bmodel(sample_model) == first
    assert write_bmodel(build_model()) == first


def test_time_string_comes_from_the_model(sample_model: BModel) -> None:
    later = dataclasses.replace(sample_model, time=create_time(1_800_000_000))
    assert write_bmodel(later) != write_bmodel(sample_model)
    assert read_bmodel(write_bmodel(later)).time == "Fri Jan 15 08:00:00 2027\n"


# -- layout -----------------------------------------------------------------------------


def test_header_fields_at_their_offsets(sample_model: BModel) -> None:
    data = write_bmodel(sample_model)
    (magic,) = struct.unpack_from("<I", data, 0)
    (header_size,) = struct.unpack_from("<I", data, 4)
    (fb_size,) = struct.unpack_from("<I", data, 8)
    (blob_size,) = struct.unpack_from("<Q", data, 12)
    assert data[:4] == b"\xee\xaa\x55\xff"
    assert magic == 0xFF55AAEE
    assert header_size == 64
    assert data[20:64] == bytes(44)
    assert len(data) == 64 + fb_size + blob_size
    (root,) = struct.unpack_from("<I", data, 64)  # flatbuffer root offset, inside it
    assert 0 < root < fb_size


def test_stage_fields_tpu_mlir_fills(sample_model: BModel) -> None:
    data = write_bmodel(sample_model)
    p = first_stage_table(data)
    assert p.u64s(NetParameterField.CTX_SIZES, "ctx_sizes") == [0x4000]
    assert p.u64(NetParameterField.DYNAMIC_CTX_ADDR, "dynamic_ctx_addr") == p.u64(
        NetParameterField.CTX_ADDR, "ctx_addr"
    )
    assert len(p.tables(NetParameterField.STAGE_IR, "stage_ir") or []) == 1
    assert p.struct_bytes(NetParameterField.BINARY_IR, 16, "binary_ir") is not None
    (sub,) = p.tables(NetParameterField.SUB_NET, "sub_net") or []
    assert sub.i32(SubNetField.ID, "id", -1) == 0
    assert sub.i32s(SubNetField.NEXT_SUBNET_IDS, "next_subnet_ids") == [-1]


def test_command_binaries_are_present_even_when_empty(sample_model: BModel) -> None:
    p = first_stage_table(write_bmodel(sample_model))
    groups = p.tables(NetParameterField.CMD_GROUP, "cmd_group") or []
    empty_gdma = groups[1].struct_bytes(CmdGroupField.BINARY_GDMA, 16, "binary_gdma")
    assert empty_gdma is not None
    assert struct.unpack("<QQ", empty_gdma)[1] == 0


def test_check_code_is_the_sha256_of_the_weights(sample_model: BModel) -> None:
    data = write_bmodel(sample_model)
    coeff = first_stage_table(data).table(NetParameterField.COEFF_MEM, "coeff_mem")
    assert coeff is not None
    weights = sample_model.nets[0].stages[0].coeff_mem.data
    assert coeff.u8s(CoeffMemField.CHECK_CODE, "check_code") == hashlib.sha256(weights).digest()
    start, size = struct.unpack("<QQ", coeff.struct_bytes(CoeffMemField.BINARY_COEFF, 16, "b"))
    assert split(data)[1][start : start + size] == weights


def test_identical_payloads_are_stored_once(sample_model: BModel) -> None:
    data = write_bmodel(sample_model)
    _, blob = split(data)
    stage = sample_model.nets[0].stages[0]
    distinct = {
        sample_model.kernel_module.data,
        stage.coeff_mem.data,
        stage.net_profile,
        *(g.bdc for g in stage.cmd_groups),
        *(g.gdma for g in stage.cmd_groups),
    }
    assert len(blob) == sum(len(payload) for payload in distinct)
    assert data.count(stage.coeff_mem.data) == 1
    assert data.count(b"\xb1" * 320) == 1
    coeff_refs = {
        first_stage_table(data, n)
        .table(NetParameterField.COEFF_MEM, "coeff_mem")
        .struct_bytes(CoeffMemField.BINARY_COEFF, 16, "binary_coeff")
        for n in (0, 1)
    }
    assert len(coeff_refs) == 1


# -- files ----------------------------------------------------------------------------


def test_save_and_load(sample_model: BModel, tmp_path: Path) -> None:
    target = save_bmodel(sample_model, tmp_path / "net.bmodel")
    assert target.read_bytes() == write_bmodel(sample_model)
    assert load_bmodel(target) == sample_model
    assert [p.name for p in tmp_path.iterdir()] == ["net.bmodel"]


def test_failed_save_leaves_no_file(
    sample_model: BModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        save_bmodel(sample_model, tmp_path / "net.bmodel")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_model_leaves_no_file(sample_model: BModel, tmp_path: Path) -> None:
    stage = sample_model.nets[0].stages[0]
    cpu = SubNet(stage.input_tensors, stage.output_tensors, subnet_mode=1)
    bad_net = Net("cpu_net", (dataclasses.replace(stage, sub_nets=(cpu,)),))
    bad = dataclasses.replace(sample_model, nets=(bad_net,))
    with pytest.raises(ValueError, match="TPU"):
        save_bmodel(bad, tmp_path / "net.bmodel")
    assert list(tmp_path.iterdir()) == []


def test_load_missing_or_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="no such bmodel file"):
        load_bmodel(tmp_path / "absent.bmodel")
    with pytest.raises(ModelLoadError, match="cannot read"):
        load_bmodel(tmp_path)


# -- corruption -----------------------------------------------------------------------


def test_wrong_magic_is_not_a_bmodel(sample_model: BModel) -> None:
    data = bytearray(write_bmodel(sample_model))
    data[0] ^= 0xFF
    assert "not a bmodel" in load_error(bytes(data))
    assert "not a bmodel" in load_error(b"PK\x03\x04" + bytes(100))
    assert "bmtap2" in load_error(struct.pack("<I", 0xFF55AAFF) + bytes(100))


@pytest.mark.parametrize("keep", [0, 3])
def test_tiny_file_is_not_a_bmodel(sample_model: BModel, keep: int) -> None:
    assert "not a bmodel" in load_error(write_bmodel(sample_model)[:keep])


def test_truncation_is_reported(sample_model: BModel) -> None:
    data = write_bmodel(sample_model)
    fb, _ = split(data)
    for keep in (4, 20, 63, 64, 64 + len(fb) // 2, 64 + len(fb), len(data) - 1):
        assert "truncated" in load_error(data[:keep]), keep


def test_corrupt_weights_fail_the_check_code(sample_model: BModel) -> None:
    data = bytearray(write_bmodel(sample_model))
    at = bytes(data).find(sample_model.nets[0].stages[0].coeff_mem.data)
    data[at + 100] ^= 0x01
    assert "SHA-256" in load_error(bytes(data))


def test_offsets_out_of_range(sample_model: BModel) -> None:
    data = bytearray(write_bmodel(sample_model))
    struct.pack_into("<I", data, 64, 0xFFFFFF00)  # root table offset far past the end
    assert "outside the flatbuffer" in load_error(bytes(data))


def test_binary_outside_the_blob(sample_model: BModel) -> None:
    data = bytearray(write_bmodel(sample_model))
    fb_size = struct.unpack_from("<I", data, 8)[0]
    struct.pack_into("<Q", data, 12, 10)  # the blob now ends after 10 bytes
    assert "outside the 10-byte blob" in load_error(bytes(data[: 64 + fb_size + 10]))


def test_wrong_header_size(sample_model: BModel) -> None:
    data = bytearray(write_bmodel(sample_model))
    struct.pack_into("<I", data, 4, 48)
    assert "header size 48" in load_error(bytes(data))


def model_without(field: int) -> bytes:
    """A Model table holding every required field except ``field``, and no nets."""
    builder = flatbuffers.Builder(256)
    strings = {
        ModelField.TYPE: builder.CreateString("B"),
        ModelField.VERSION: builder.CreateString("2.2+x"),
        ModelField.TIME: builder.CreateString("now\n"),
        ModelField.CHIP: builder.CreateString("BM1684X"),
    }
    builder.StartVector(4, 0, 4)
    nets = builder.EndVector()
    builder.StartObject(len(ModelField))
    for fid, offset in [*strings.items(), (ModelField.NET, nets)]:
        if fid != field:
            builder.PrependUOffsetTRelativeSlot(fid, offset, 0)
    builder.Finish(builder.EndObject())
    fb = bytes(builder.Output())
    return struct.pack("<IIIQ44x", 0xFF55AAEE, 64, len(fb), 0) + fb


@pytest.mark.parametrize(("field", "name"), [(ModelField.CHIP, "chip"), (ModelField.NET, "net")])
def test_missing_required_field(field: int, name: str) -> None:
    assert f"required field Model.{name} is missing" in load_error(model_without(field))


def test_model_without_nets_is_refused() -> None:
    assert "at least one net" in load_error(model_without(-1))


def test_random_byte_flips_never_escape_as_other_errors(sample_model: BModel) -> None:
    data = write_bmodel(sample_model)
    fb_end = 64 + len(split(data)[0])
    rng = random.Random(20240611)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(600):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(64, fb_end) if rng.random() < 0.8 else rng.randrange(len(data))
            mutated[at] = rng.randrange(256)
        try:
            read_bmodel(bytes(mutated), "fuzz.bmodel")
        except ModelLoadError as exc:
            assert "\n" not in str(exc)
            assert str(exc).startswith("fuzz.bmodel: ")
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert outcomes["refused"] > 0
    assert outcomes["loaded"] > 0


def test_every_truncation_is_refused(sample_model: BModel) -> None:
    data = write_bmodel(sample_model)
    for keep in range(0, len(data), 37):
        with pytest.raises(ModelLoadError):
            read_bmodel(data[:keep])


# -- dtypes and validation ------------------------------------------------------------


def test_dtype_numbers_and_names() -> None:
    expected = {"f32": 0, "f16": 1, "i8": 2, "u8": 3, "i16": 4, "u16": 5, "i32": 6}
    expected |= {"u32": 7, "bf16": 8, "i4": 9, "u4": 10, "f8e5m2": 12, "f8e4m3": 13}
    for name, code in expected.items():
        assert dtype_from_ir_name(name) == code
        assert dtype_from_code(code).ir_name == name
    assert BModelDType.BF16.tool_name == "bfloat16"
    assert BModelDType.F8E4M3.tool_name == "unkown"
    assert BModelDType.I4.bits == 4
    with pytest.raises(ValueError, match="unknown bmodel data type 11"):
        dtype_from_code(11)
    with pytest.raises(ValueError, match="cannot hold dtype 'f64'"):
        dtype_from_ir_name("f64")


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="size"):
        TensorInfo("t", BModelDType.F32, (1,), 0, -1)
    with pytest.raises(ValueError, match="zero_point"):
        TensorInfo("t", BModelDType.I8, (1,), 0, 1, zero_point=2**31)
    with pytest.raises(ValueError, match="float32"):
        TensorInfo("t", BModelDType.F32, (1,), 0, 4, scale=1e300)
    with pytest.raises(ValueError, match="no stage"):
        Net("empty", ())


# -- describe -------------------------------------------------------------------------


def test_describe_lines(sample_model: BModel) -> None:
    stage0 = sample_model.nets[0].stages[0]
    weight = len(stage0.coeff_mem.data)  # both nets hold the same weights: counted once
    instruct = (320 + 288 + 64 + 0) + (320 + 288)  # bdc + gdma bytes of every group
    runtime = max(0x4000, 0x9000)  # the larger ctx_size of the two single-subnet nets
    assert describe(sample_model) == [
        "bmodel version: B.2.2+sophonc-0.1.0",
        "chip: BM1684X",
        "create time: Tue Nov 14 22:13:20 2023",
        "kernel_module name: libbm1684x_kernel_module.so",
        "kernel_module size: 64",
        "kernel mode: normal",
        "=" * 42,
        "net 0: [detector]  static",
        "-" * 12,
        "stage 0, core num: 1",
        "input: images, [1, 3, 8, 8], float32, scale: 1, zero_point: 0",
        "input: mask, [1, 1, 8, 8], uint8, scale: 0.5, zero_point: 3",
        "output: logits_Conv, [1, 16, 8, 8], int8, scale: 0.0123, zero_point: -5",
        "output: feat, [1, 4, 10, 10], float16, scale: 1, zero_point: 0",
        "=" * 42,
        "net 1: [head]  static",
        "-" * 12,
        "stage 0, core num: 1",
        "input: x, [2, 4], bfloat16, scale: 1, zero_point: 0",
        "output: y, [2, 4], int32, scale: 1, zero_point: 0",
        f"device mem size: {weight + instruct + runtime} "
        f"(weight: {weight}, instruct: {instruct}, runtime: {runtime})",
        "host mem size: 0 (weight: 0, runtime: 0)",
    ]


def test_describe_without_kernel_and_with_flags(sample_model: BModel) -> None:
    net = sample_model.nets[1]
    stage = dataclasses.replace(net.stages[0], is_dynamic=True, n_dynamic=True, core_num=2)
    model = dataclasses.replace(
        sample_model,
        nets=(dataclasses.replace(net, stages=(stage,), addr_mode=1),),
        kernel_module=None,
        device_num=2,
    )
    lines = describe(model)
    assert "chip: BM1684X,  device num: 2" in lines
    assert "no kernel_module" in lines
    assert "net 0: [head]  dynamic" in lines
    assert "addr mode: 1" in lines
    assert "stage 0, core num: 2" in lines
    assert "input: x, [max:2, max:4], bfloat16, scale: 1, zero_point: 0" in lines
    assert "output: y, [2, 4], int32, scale: 1, zero_point: 0" in lines


def test_bm1684_counts_commands_and_io_buffer(sample_model: BModel) -> None:
    weight, instruct, runtime = memory_totals(dataclasses.replace(sample_model, chip="BM1684"))
    assert weight == 5120
    assert instruct == 128 * ((5 + 3) + (2 + 0) + (5 + 3))
    largest_io = 4 * (1 * 4 * 10 * 10)  # 'feat', f16 but counted at 4 bytes an element
    assert runtime == 0x9000 + largest_io


def test_memory_totals_follow_model_tool_quirks(sample_model: BModel) -> None:
    first, second = sample_model.nets[0].stages[0], sample_model.nets[1].stages[0]
    two_stage = Net("two", (first, dataclasses.replace(first, ctx_size=1, coeff_mem=None)))
    _, instruct, runtime = memory_totals(dataclasses.replace(sample_model, nets=(two_stage,)))
    assert instruct == 2 * (320 + 288 + 64)  # every stage is accounted as stage 0
    assert runtime == first.ctx_size

    def multi(name: str, stage: NetStage) -> Net:
        subs = (
            SubNet(stage.input_tensors, stage.output_tensors, (), id=0, next_subnet_ids=(1,)),
            SubNet(stage.input_tensors, stage.output_tensors, (), id=1),
        )
        return Net(name, (dataclasses.replace(stage, sub_nets=subs),))

    nets = (multi("a", second), multi("b", first))
    _, instruct, runtime = memory_totals(dataclasses.replace(sample_model, nets=nets))
    assert instruct == 0
    assert runtime == first.ctx_size  # only the last multi-subnet net's context counts

    dynamic_sub = SubNet(second.input_tensors, second.output_tensors, is_dynamic=True, ir_len=7)
    dyn = Net("d", (dataclasses.replace(second, sub_nets=(dynamic_sub,)),))
    assert memory_totals(dataclasses.replace(sample_model, nets=(dyn,)))[1] == 4 * 7


def test_io_roles_round_trip(sample_model: BModel) -> None:
    stage = read_bmodel(write_bmodel(sample_model)).nets[0].stages[0]
    assert [(t.hidden, t.index) for t in stage.input_tensors] == [(HIDDEN_INPUT, 0), (1, 1)]
    assert [(t.hidden, t.index) for t in stage.output_tensors] == [(HIDDEN_OUTPUT, 0), (2, 1)]
    assert CmdGroup.of(1, 2, b"ab", b"cde").bdc_cmd_byte == 2
