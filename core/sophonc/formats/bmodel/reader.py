"""Parse the bytes of a ``.bmodel`` file back into a :class:`BModel`.

Every way a file can be broken ends in one :class:`~sophonc.errors.ModelLoadError`
line naming the file and the cause: wrong magic, truncation, offsets outside the
flatbuffer or the blob, missing required fields, unknown data types, and weights
whose SHA-256 no longer matches the check code stored beside them. Files written by
the official TPU-MLIR toolchain are read too; fields sophonc does not model (CPU
subnet parameters, cascade, relocation entries, multi-core command lists) are
skipped.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import TypeVar

from sophonc.errors import ModelLoadError
from sophonc.formats.bmodel.dtypes import dtype_from_code
from sophonc.formats.bmodel.flatview import FlatBuffer, FlatBufferError, Table
from sophonc.formats.bmodel.model import (
    BModel,
    CmdGroup,
    CoeffLocation,
    CoeffMem,
    CpuopModule,
    KernelModule,
    Net,
    NetStage,
    SubNet,
    TensorInfo,
)
from sophonc.formats.bmodel.schema import (
    BINARY_STRUCT,
    BMTAP2_MAGIC,
    HEADER,
    HEADER_SIZE,
    MAGIC,
    CmdGroupField,
    CoeffMemField,
    CpuopModuleField,
    KernelModuleField,
    LocationField,
    ModelField,
    NetField,
    NetParameterField,
    ShapeField,
    SubNetField,
    TensorField,
)

_T = TypeVar("_T")


def _required(value: _T | None, table: Table, name: str) -> _T:
    if value is None:
        raise FlatBufferError(f"required field {table.path}.{name} is missing")
    return value


class _Decoder:
    """One use: the flatbuffer and blob of one file to a BModel.

    Tables reached twice (the official writer and ours share tensors and command
    groups between a stage and its subnet) are decoded once, which also keeps a
    crafted file of many references to one table from costing more than its size.
    """

    def __init__(self, flatbuffer: bytes, blob: bytes) -> None:
        self._fb = FlatBuffer(flatbuffer)
        self._blob = blob
        self._tensors: dict[int, TensorInfo] = {}
        self._groups: dict[int, CmdGroup] = {}
        self._subnets: dict[int, SubNet] = {}

    def _payload(self, table: Table, fid: int, name: str) -> bytes | None:
        """The blob bytes a ``Binary`` field points at, or None if absent."""
        raw = table.struct_bytes(fid, BINARY_STRUCT.size, name)
        if raw is None:
            return None
        start, size = BINARY_STRUCT.unpack(raw)
        if start + size > len(self._blob):
            raise FlatBufferError(
                f"{table.path}.{name}: binary [{start}, {start + size}) lies outside "
                f"the {len(self._blob)}-byte blob"
            )
        return self._blob[start : start + size]

    def model(self) -> BModel:
        root = self._fb.root()
        net_tables = _required(root.tables(ModelField.NET, "net"), root, "net")
        kernel = root.table(ModelField.KERNEL_MODULE, "kernel_module")
        cpuop = root.table(ModelField.CPUOP_MODULE, "cpuop_module")
        return BModel(
            chip=_required(root.string(ModelField.CHIP, "chip"), root, "chip"),
            version=_required(root.string(ModelField.VERSION, "version"), root, "version"),
            time=_required(root.string(ModelField.TIME, "time"), root, "time"),
            nets=tuple(self._net(t) for t in net_tables),
            neuron_size=root.u64(ModelField.NEURON_SIZE, "neuron_size"),
            kernel_module=self._kernel_module(kernel) if kernel is not None else None,
            cpuop_module=self._cpuop_module(cpuop) if cpuop is not None else None,
            device_num=root.u32(ModelField.DEVICE_NUM, "device_num"),
            bmodel_type=root.u32(ModelField.BMODEL_TYPE, "bmodel_type"),
            lib_backend=self._payload(root, ModelField.LIB_BACKEND, "lib_backend") or b"",
            type_tag=_required(root.string(ModelField.TYPE, "type"), root, "type"),
        )

    def _kernel_module(self, t: Table) -> KernelModule:
        return KernelModule(
            file_name=_required(t.string(KernelModuleField.FILE_NAME, "file_name"), t, "file_name"),
            data=_required(self._payload(t, KernelModuleField.BINARY, "binary"), t, "binary"),
            mode=t.i32(KernelModuleField.MODE, "mode"),
        )

    def _cpuop_module(self, t: Table) -> CpuopModule:
        return CpuopModule(
            file_name=_required(t.string(CpuopModuleField.FILE_NAME, "file_name"), t, "file_name"),
            data=_required(self._payload(t, CpuopModuleField.BINARY, "binary"), t, "binary"),
        )

    def _net(self, t: Table) -> Net:
        name = _required(t.string(NetField.NAME, "name"), t, "name")
        stages = t.tables(NetField.PARAMETER, "parameter") or []
        return Net(
            name=name,
            stages=tuple(self._stage(s) for s in stages),
            addr_mode=t.i32(NetField.ADDR_MODE, "addr_mode"),
        )

    def _stage(self, t: Table) -> NetStage:
        F = NetParameterField
        inputs = _required(t.tables(F.INPUT_TENSOR, "input_tensor"), t, "input_tensor")
        outputs = _required(t.tables(F.OUTPUT_TENSOR, "output_tensor"), t, "output_tensor")
        coeff = t.table(F.COEFF_MEM, "coeff_mem")
        return NetStage(
            input_tensors=tuple(self._tensor(x) for x in inputs),
            output_tensors=tuple(self._tensor(x) for x in outputs),
            ctx_addr=t.u64(F.CTX_ADDR, "ctx_addr"),
            ctx_size=t.u64(F.CTX_SIZE, "ctx_size"),
            coeff_mem=self._coeff_mem(coeff) if coeff is not None else None,
            cmd_groups=self._group_list(t, F.CMD_GROUP, "cmd_group"),
            sub_nets=tuple(self._sub_net(s) for s in t.tables(F.SUB_NET, "sub_net") or []),
            net_profile=self._payload(t, F.NET_PROFILE, "net_profile") or b"",
            binary_ir=self._payload(t, F.BINARY_IR, "binary_ir") or b"",
            net_stat=self._payload(t, F.NET_STAT, "net_stat") or b"",
            tensor_loc=self._payload(t, F.TENSOR_LOC, "tensor_loc") or b"",
            cpu_mem_size=t.u32(F.CPU_MEM_SIZE, "cpu_mem_size"),
            core_num=t.u32(F.CORE_NUM, "core_num"),
            io_addr=t.u64(F.IO_ADDR, "io_addr"),
            io_size=t.u64(F.IO_SIZE, "io_size"),
            is_dynamic=bool(t.i32(F.IS_DYNAMIC, "is_dynamic")),
            n_dynamic=bool(t.i32(F.N_DYNAMIC, "n_dynamic")),
            h_w_dynamic=bool(t.i32(F.H_W_DYNAMIC, "h_w_dynamic")),
        )

    def _tensor(self, t: Table) -> TensorInfo:
        found = self._tensors.get(t.pos)
        if found is not None:
            return found
        F = TensorField
        name = _required(t.string(F.NAME, "name"), t, "name")
        shapes = t.tables(F.SHAPE, "shape")
        if not shapes:
            raise FlatBufferError(f"{t.path}: tensor '{name}' has no shape")
        code = t.u32(F.DATA_TYPE, "data_type")
        try:
            dtype = dtype_from_code(code)
        except ValueError as exc:
            raise FlatBufferError(f"{t.path}: tensor '{name}': {exc}") from None
        found = TensorInfo(
            name=name,
            dtype=dtype,
            shape=tuple(shapes[0].u64s(ShapeField.DIM, "dim") or ()),
            device_addr=t.u64(F.DEVICE_ADDR, "device_addr"),
            size=t.u64(F.SIZE, "size"),
            scale=t.f32(F.SCALE, "scale", 1.0),
            zero_point=t.i32(F.ZERO_POINT, "zero_point"),
            mem_type=t.u32(F.MEM_TYPE, "mem_type"),
            hidden=t.i32(F.HIDDEN, "hidden"),
            index=t.i32(F.INDEX, "index"),
            gmem_stmode=t.i32(F.GMEM_STMODE, "gmem_stmode"),
            pad_h=t.u32(F.PAD_H, "pad_h"),
        )
        self._tensors[t.pos] = found
        return found

    def _tensor_list(self, t: Table, fid: int, name: str) -> tuple[TensorInfo, ...]:
        return tuple(self._tensor(x) for x in t.tables(fid, name) or [])

    def _group_list(self, t: Table, fid: int, name: str) -> tuple[CmdGroup, ...]:
        return tuple(self._cmd_group(g) for g in t.tables(fid, name) or [])

    def _coeff_mem(self, t: Table) -> CoeffMem:
        F = CoeffMemField
        if t.i32(F.ENCRYPT_MODE, "encrypt_mode") != 0:
            raise FlatBufferError(f"{t.path}: the weights are encrypted, which sophonc cannot read")
        check_code = _required(t.u8s(F.CHECK_CODE, "check_code"), t, "check_code")
        data = _required(self._payload(t, F.BINARY_COEFF, "binary_coeff"), t, "binary_coeff")
        if hashlib.sha256(data).digest() != check_code:
            raise FlatBufferError(
                f"{t.path}: the SHA-256 check code does not match the {len(data)} bytes of "
                f"weights: the weights are corrupt"
            )
        locations = []
        for loc in t.tables(F.LOCATION, "location") or []:
            locations.append(
                CoeffLocation(
                    name=_required(loc.string(LocationField.NAME, "name"), loc, "name"),
                    offset=loc.u64(LocationField.OFFSET, "offset"),
                    size=loc.u64(LocationField.SIZE, "size"),
                )
            )
        return CoeffMem(t.u64(F.ADDRESS, "address"), data, tuple(locations))

    def _cmd_group(self, t: Table) -> CmdGroup:
        found = self._groups.get(t.pos)
        if found is None:
            F = CmdGroupField
            found = self._groups[t.pos] = CmdGroup(
                bdc_num=t.u32(F.BDC_NUM, "bdc_num"),
                gdma_num=t.u32(F.GDMA_NUM, "gdma_num"),
                bdc=self._payload(t, F.BINARY_BDC, "binary_bdc") or b"",
                gdma=self._payload(t, F.BINARY_GDMA, "binary_gdma") or b"",
                bdc_cmd_byte=t.u32(F.BDC_CMD_BYTE, "bdc_cmd_byte"),
                gdma_cmd_byte=t.u32(F.GDMA_CMD_BYTE, "gdma_cmd_byte"),
            )
        return found

    def _sub_net(self, t: Table) -> SubNet:
        found = self._subnets.get(t.pos)
        if found is None:
            F = SubNetField
            found = self._subnets[t.pos] = SubNet(
                input_tensors=self._tensor_list(t, F.INPUT_TENSOR, "input_tensor"),
                output_tensors=self._tensor_list(t, F.OUTPUT_TENSOR, "output_tensor"),
                cmd_groups=self._group_list(t, F.CMD_GROUP, "cmd_group"),
                id=t.i32(F.ID, "id", -1),
                next_subnet_ids=tuple(t.i32s(F.NEXT_SUBNET_IDS, "next_subnet_ids") or ()),
                subnet_mode=t.i32(F.SUBNET_MODE, "subnet_mode"),
                is_dynamic=bool(t.i32(F.IS_DYNAMIC, "is_dynamic")),
                ir_offset=t.u32(F.IR_OFFSET, "ir_offset"),
                ir_len=t.u32(F.IR_LEN, "ir_len"),
                run_core=t.u32(F.RUN_CORE, "run_core"),
            )
        return found


def _split(data: bytes, source: str) -> tuple[bytes, bytes]:
    """Check the header and cut the file into (flatbuffer, blob)."""
    if len(data) < 4:
        raise ModelLoadError(f"{source}: not a bmodel: only {len(data)} bytes, no header")
    magic = int.from_bytes(data[:4], "little")
    if magic == BMTAP2_MAGIC:
        raise ModelLoadError(
            f"{source}: a bmodel of the retired bmtap2 toolchain (magic 0x{magic:08X}), "
            f"which sophonc cannot read; recompile the model"
        )
    if magic != MAGIC:
        raise ModelLoadError(
            f"{source}: not a bmodel: it starts with 0x{magic:08X}, a bmodel with 0x{MAGIC:08X}"
        )
    if len(data) < HEADER_SIZE:
        raise ModelLoadError(
            f"{source}: truncated bmodel: {len(data)} bytes, shorter than the "
            f"{HEADER_SIZE}-byte header"
        )
    _, header_size, fb_size, blob_size = HEADER.unpack_from(data)
    if header_size != HEADER_SIZE:
        raise ModelLoadError(
            f"{source}: corrupt bmodel: header size {header_size}, expected {HEADER_SIZE}"
        )
    need = HEADER_SIZE + fb_size + blob_size
    if len(data) < need:
        raise ModelLoadError(
            f"{source}: truncated bmodel: the header announces {need} bytes, the file has "
            f"{len(data)}"
        )
    blob_start = HEADER_SIZE + fb_size
    return data[HEADER_SIZE:blob_start], data[blob_start:need]


def read_bmodel(data: bytes, source: str = "<bytes>") -> BModel:
    """Parse a bmodel; ``source`` names it in error messages (a path, usually)."""
    flatbuffer, blob = _split(bytes(data), source)
    try:
        return _Decoder(flatbuffer, blob).model()
    except ValueError as exc:  # FlatBufferError, or a value the dataclasses refuse
        raise ModelLoadError(f"{source}: corrupt bmodel: {exc}") from None


def load_bmodel(path: str | os.PathLike[str]) -> BModel:
    """Read and parse the bmodel file at ``path``."""
    where = Path(path)
    try:
        data = where.read_bytes()
    except FileNotFoundError:
        raise ModelLoadError(f"{where}: no such bmodel file") from None
    except OSError as exc:
        raise ModelLoadError(f"{where}: cannot read the bmodel: {exc.strerror or exc}") from None
    return read_bmodel(data, str(where))
