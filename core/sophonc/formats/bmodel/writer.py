"""Serialise a :class:`BModel` to the bytes of a ``.bmodel`` file.

The flatbuffer is built bottom-up with the plain ``flatbuffers.Builder`` (children
before the tables that point at them), payloads go to the blob through
:class:`BlobBuilder`. Nothing depends on the clock, dict order of the caller or
object identity, so one model always gives the same bytes. Equal tensors, command
groups, strings and offset vectors are written once and shared, which the format
allows and the official tools read.

The stage fields TPU-MLIR fills for a static single-stage net are filled the same
way: ``ctx_sizes = [ctx_size]``, ``dynamic_ctx_addr = ctx_addr``, one empty
``stage_ir``, an (empty) ``binary_ir``, and command binaries that are always present
(size 0 when empty), since the official ``model_tool`` dereferences them.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Sequence
from enum import IntEnum
from pathlib import Path
from typing import Any

import flatbuffers

from sophonc.formats.bmodel.blob import BlobBuilder
from sophonc.formats.bmodel.model import (
    BModel,
    CmdGroup,
    CoeffMem,
    CpuopModule,
    KernelModule,
    Net,
    NetStage,
    SubNet,
    TensorInfo,
)
from sophonc.formats.bmodel.schema import (
    HEADER,
    HEADER_SIZE,
    MAGIC,
    SUBNET_TPU,
    BinaryRef,
    CmdGroupField,
    CoeffMemField,
    CpuopModuleField,
    KernelModuleField,
    LocationField,
    ModelField,
    NetField,
    NetParameterField,
    ShapeField,
    StageIRField,
    SubNetField,
    TensorField,
)

_MAX_FLATBUFFER = 2**32 - 1


class _Encoder:
    """One use: turns one BModel into (flatbuffer bytes, blob bytes)."""

    def __init__(self) -> None:
        self._fb: Any = flatbuffers.Builder(4096)
        self._blob = BlobBuilder()
        self._strings: dict[str, int] = {}
        self._vectors: dict[tuple[int, ...], int] = {}
        self._tensors: dict[TensorInfo, int] = {}
        self._groups: dict[CmdGroup, int] = {}

    # -- primitives ---------------------------------------------------------------

    def _string(self, text: str) -> int:
        found = self._strings.get(text)
        if found is None:
            found = self._strings[text] = int(self._fb.CreateString(text))
        return found

    def _offsets(self, offsets: Sequence[int]) -> int:
        """A vector of tables; an identical vector built before is reused."""
        key = tuple(offsets)
        found = self._vectors.get(key)
        if found is None:
            self._fb.StartVector(4, len(key), 4)
            for off in reversed(key):
                self._fb.PrependUOffsetTRelative(off)
            found = self._vectors[key] = int(self._fb.EndVector())
        return found

    def _u64s(self, values: Sequence[int]) -> int:
        self._fb.StartVector(8, len(values), 8)
        for value in reversed(values):
            self._fb.PrependUint64(value)
        return int(self._fb.EndVector())

    def _i32s(self, values: Sequence[int]) -> int:
        self._fb.StartVector(4, len(values), 4)
        for value in reversed(values):
            self._fb.PrependInt32(value)
        return int(self._fb.EndVector())

    def _start(self, fields: type[IntEnum]) -> None:
        self._fb.StartObject(len(fields))

    def _end(self) -> int:
        return int(self._fb.EndObject())

    def _binary_slot(self, slot: int, ref: BinaryRef) -> None:
        """A ``Binary`` struct field: the struct is written in place, then its slot."""
        self._fb.Prep(8, 16)
        self._fb.PrependUint64(ref.size)
        self._fb.PrependUint64(ref.start)
        self._fb.PrependStructSlot(slot, self._fb.Offset(), 0)

    # -- tables -------------------------------------------------------------------

    def _tensor(self, tensor: TensorInfo) -> int:
        found = self._tensors.get(tensor)
        if found is not None:
            return found
        fb = self._fb
        name = self._string(tensor.name)
        dims = self._u64s(tensor.shape)
        self._start(ShapeField)
        fb.PrependUOffsetTRelativeSlot(ShapeField.DIM, dims, 0)
        shapes = self._offsets([self._end()])
        self._start(TensorField)
        fb.PrependUint64Slot(TensorField.DEVICE_ADDR, tensor.device_addr, 0)
        fb.PrependUint64Slot(TensorField.SIZE, tensor.size, 0)
        fb.PrependUOffsetTRelativeSlot(TensorField.NAME, name, 0)
        fb.PrependUOffsetTRelativeSlot(TensorField.SHAPE, shapes, 0)
        fb.PrependUint32Slot(TensorField.DATA_TYPE, int(tensor.dtype), 0)
        fb.PrependInt32Slot(TensorField.GMEM_STMODE, tensor.gmem_stmode, 0)
        fb.PrependUint32Slot(TensorField.MEM_TYPE, tensor.mem_type, 0)
        fb.PrependFloat32Slot(TensorField.SCALE, tensor.scale, 1.0)
        fb.PrependUint32Slot(TensorField.PAD_H, tensor.pad_h, 0)
        fb.PrependInt32Slot(TensorField.ZERO_POINT, tensor.zero_point, 0)
        fb.PrependInt32Slot(TensorField.HIDDEN, tensor.hidden, 0)
        fb.PrependInt32Slot(TensorField.INDEX, tensor.index, 0)
        found = self._tensors[tensor] = self._end()
        return found

    def _tensors_vector(self, tensors: Sequence[TensorInfo]) -> int:
        return self._offsets([self._tensor(t) for t in tensors])

    def _cmd_group(self, group: CmdGroup) -> int:
        found = self._groups.get(group)
        if found is not None:
            return found
        fb = self._fb
        bdc = self._blob.add(group.bdc)
        gdma = self._blob.add(group.gdma)
        self._start(CmdGroupField)
        self._binary_slot(CmdGroupField.BINARY_BDC, bdc)
        self._binary_slot(CmdGroupField.BINARY_GDMA, gdma)
        fb.PrependUint32Slot(CmdGroupField.BDC_NUM, group.bdc_num, 0)
        fb.PrependUint32Slot(CmdGroupField.GDMA_NUM, group.gdma_num, 0)
        fb.PrependUint32Slot(CmdGroupField.BDC_CMD_BYTE, group.bdc_cmd_byte, 0)
        fb.PrependUint32Slot(CmdGroupField.GDMA_CMD_BYTE, group.gdma_cmd_byte, 0)
        found = self._groups[group] = self._end()
        return found

    def _cmd_groups_vector(self, groups: Sequence[CmdGroup]) -> int:
        return self._offsets([self._cmd_group(g) for g in groups])

    def _coeff_mem(self, coeff: CoeffMem) -> int:
        fb = self._fb
        ref = self._blob.add(coeff.data)
        check_code = int(fb.CreateByteVector(coeff.check_code))
        locations = []
        for loc in coeff.locations:
            name = self._string(loc.name)
            self._start(LocationField)
            fb.PrependUint64Slot(LocationField.OFFSET, loc.offset, 0)
            fb.PrependUint64Slot(LocationField.SIZE, loc.size, 0)
            fb.PrependUOffsetTRelativeSlot(LocationField.NAME, name, 0)
            locations.append(self._end())
        location_vector = self._offsets(locations)
        self._start(CoeffMemField)
        fb.PrependUint64Slot(CoeffMemField.ADDRESS, coeff.address, 0)
        self._binary_slot(CoeffMemField.BINARY_COEFF, ref)
        fb.PrependUOffsetTRelativeSlot(CoeffMemField.CHECK_CODE, check_code, 0)
        fb.PrependUOffsetTRelativeSlot(CoeffMemField.LOCATION, location_vector, 0)
        return self._end()

    def _sub_net(self, sub: SubNet, where: str) -> int:
        if sub.subnet_mode != SUBNET_TPU:
            raise ValueError(
                f"{where}: subnet {sub.id} has mode {sub.subnet_mode}; sophonc writes TPU "
                f"subnets (mode {SUBNET_TPU}) only, other modes need tables it does not model"
            )
        fb = self._fb
        groups = self._cmd_groups_vector(sub.cmd_groups)
        inputs = self._tensors_vector(sub.input_tensors)
        outputs = self._tensors_vector(sub.output_tensors)
        next_ids = self._i32s(sub.next_subnet_ids)
        self._start(SubNetField)
        fb.PrependUOffsetTRelativeSlot(SubNetField.CMD_GROUP, groups, 0)
        fb.PrependUOffsetTRelativeSlot(SubNetField.INPUT_TENSOR, inputs, 0)
        fb.PrependUOffsetTRelativeSlot(SubNetField.OUTPUT_TENSOR, outputs, 0)
        fb.PrependUOffsetTRelativeSlot(SubNetField.NEXT_SUBNET_IDS, next_ids, 0)
        fb.PrependInt32Slot(SubNetField.SUBNET_MODE, sub.subnet_mode, 0)
        fb.PrependInt32Slot(SubNetField.IS_DYNAMIC, int(sub.is_dynamic), 0)
        fb.PrependUint32Slot(SubNetField.IR_OFFSET, sub.ir_offset, 0)
        fb.PrependUint32Slot(SubNetField.IR_LEN, sub.ir_len, 0)
        fb.PrependInt32Slot(SubNetField.ID, sub.id, -1)
        fb.PrependUint32Slot(SubNetField.RUN_CORE, sub.run_core, 0)
        return self._end()

    def _stage(self, stage: NetStage, where: str) -> int:
        fb = self._fb
        inputs = self._tensors_vector(stage.input_tensors)
        outputs = self._tensors_vector(stage.output_tensors)
        coeff = self._coeff_mem(stage.coeff_mem) if stage.coeff_mem is not None else 0
        groups = self._cmd_groups_vector(stage.cmd_groups)
        subs = self._offsets([self._sub_net(s, where) for s in stage.sub_nets])
        self._start(StageIRField)
        stage_irs = self._offsets([self._end()])
        ctx_sizes = self._u64s([stage.ctx_size])
        binary_ir = self._blob.add(stage.binary_ir)
        optional = [
            (NetParameterField.NET_PROFILE, stage.net_profile),
            (NetParameterField.NET_STAT, stage.net_stat),
            (NetParameterField.TENSOR_LOC, stage.tensor_loc),
        ]
        extras = [(slot, self._blob.add(data)) for slot, data in optional if data]

        self._start(NetParameterField)
        fb.PrependUint64Slot(NetParameterField.CTX_ADDR, stage.ctx_addr, 0)
        fb.PrependUint64Slot(NetParameterField.CTX_SIZE, stage.ctx_size, 0)
        fb.PrependUint64Slot(NetParameterField.IO_ADDR, stage.io_addr, 0)
        fb.PrependUint64Slot(NetParameterField.IO_SIZE, stage.io_size, 0)
        fb.PrependUint64Slot(NetParameterField.DYNAMIC_CTX_ADDR, stage.ctx_addr, 0)
        self._binary_slot(NetParameterField.BINARY_IR, binary_ir)
        for slot, ref in extras:
            self._binary_slot(slot, ref)
        fb.PrependUOffsetTRelativeSlot(NetParameterField.INPUT_TENSOR, inputs, 0)
        fb.PrependUOffsetTRelativeSlot(NetParameterField.OUTPUT_TENSOR, outputs, 0)
        fb.PrependUOffsetTRelativeSlot(NetParameterField.COEFF_MEM, coeff, 0)
        fb.PrependUOffsetTRelativeSlot(NetParameterField.CMD_GROUP, groups, 0)
        fb.PrependUOffsetTRelativeSlot(NetParameterField.STAGE_IR, stage_irs, 0)
        fb.PrependUOffsetTRelativeSlot(NetParameterField.SUB_NET, subs, 0)
        fb.PrependUOffsetTRelativeSlot(NetParameterField.CTX_SIZES, ctx_sizes, 0)
        fb.PrependInt32Slot(NetParameterField.IS_DYNAMIC, int(stage.is_dynamic), 0)
        fb.PrependInt32Slot(NetParameterField.N_DYNAMIC, int(stage.n_dynamic), 0)
        fb.PrependInt32Slot(NetParameterField.H_W_DYNAMIC, int(stage.h_w_dynamic), 0)
        fb.PrependUint32Slot(NetParameterField.CPU_MEM_SIZE, stage.cpu_mem_size, 0)
        fb.PrependUint32Slot(NetParameterField.CORE_NUM, stage.core_num, 0)
        return self._end()

    def _net(self, net: Net) -> int:
        stages = [self._stage(s, f"net '{net.name}' stage {i}") for i, s in enumerate(net.stages)]
        parameters = self._offsets(stages)
        name = self._string(net.name)
        self._start(NetField)
        self._fb.PrependUOffsetTRelativeSlot(NetField.NAME, name, 0)
        self._fb.PrependUOffsetTRelativeSlot(NetField.PARAMETER, parameters, 0)
        self._fb.PrependInt32Slot(NetField.ADDR_MODE, net.addr_mode, 0)
        return self._end()

    def _kernel_module(self, module: KernelModule) -> int:
        ref = self._blob.add(module.data)
        name = self._string(module.file_name)
        self._start(KernelModuleField)
        self._binary_slot(KernelModuleField.BINARY, ref)
        self._fb.PrependUOffsetTRelativeSlot(KernelModuleField.FILE_NAME, name, 0)
        self._fb.PrependInt32Slot(KernelModuleField.MODE, module.mode, 0)
        return self._end()

    def _cpuop_module(self, module: CpuopModule) -> int:
        ref = self._blob.add(module.data)
        name = self._string(module.file_name)
        self._start(CpuopModuleField)
        self._binary_slot(CpuopModuleField.BINARY, ref)
        self._fb.PrependUOffsetTRelativeSlot(CpuopModuleField.FILE_NAME, name, 0)
        return self._end()

    def encode(self, model: BModel) -> tuple[bytes, bytes]:
        """The flatbuffer and the blob of ``model``."""
        fb = self._fb
        # The kernel module goes first in the blob, as TPU-MLIR places it.
        kernel = self._kernel_module(model.kernel_module) if model.kernel_module else 0
        cpuop = self._cpuop_module(model.cpuop_module) if model.cpuop_module else 0
        nets = self._offsets([self._net(net) for net in model.nets])
        lib_backend = self._blob.add(model.lib_backend)
        type_tag = self._string(model.type_tag)
        version = self._string(model.version)
        created = self._string(model.time)
        chip = self._string(model.chip)
        self._start(ModelField)
        fb.PrependUint64Slot(ModelField.NEURON_SIZE, model.neuron_size, 0)
        self._binary_slot(ModelField.LIB_BACKEND, lib_backend)
        fb.PrependUOffsetTRelativeSlot(ModelField.TYPE, type_tag, 0)
        fb.PrependUOffsetTRelativeSlot(ModelField.VERSION, version, 0)
        fb.PrependUOffsetTRelativeSlot(ModelField.TIME, created, 0)
        fb.PrependUOffsetTRelativeSlot(ModelField.CHIP, chip, 0)
        fb.PrependUOffsetTRelativeSlot(ModelField.NET, nets, 0)
        fb.PrependUOffsetTRelativeSlot(ModelField.KERNEL_MODULE, kernel, 0)
        fb.PrependUOffsetTRelativeSlot(ModelField.CPUOP_MODULE, cpuop, 0)
        fb.PrependUint32Slot(ModelField.DEVICE_NUM, model.device_num, 0)
        fb.PrependUint32Slot(ModelField.BMODEL_TYPE, model.bmodel_type, 0)
        fb.Finish(self._end())
        return bytes(fb.Output()), self._blob.getvalue()


def write_bmodel(model: BModel) -> bytes:
    """The complete ``.bmodel`` file for ``model``: header, flatbuffer, blob."""
    flatbuffer, blob = _Encoder().encode(model)
    if len(flatbuffer) > _MAX_FLATBUFFER:
        raise ValueError(f"bmodel flatbuffer of {len(flatbuffer)} bytes exceeds the u32 header")
    header = HEADER.pack(MAGIC, HEADER_SIZE, len(flatbuffer), len(blob))
    return header + flatbuffer + blob


def save_bmodel(model: BModel, path: str | os.PathLike[str]) -> Path:
    """Write ``model`` to ``path`` atomically: a complete file or none at all.

    The bytes are built in memory first, written to a temporary file beside the
    target and moved over it in one step, so a failure at any point leaves no
    partial ``.bmodel`` (and an older file at ``path`` untouched).
    """
    target = Path(path)
    data = write_bmodel(model)
    # A plain exclusive open (not mkstemp) so the file gets the usual umask-based mode.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    out = open(tmp, "xb")  # noqa: SIM115 - closed below; failing here leaves nothing behind
    try:
        with out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return target
