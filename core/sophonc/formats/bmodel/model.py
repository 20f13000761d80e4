"""A bmodel as plain frozen data: what the writer serialises and the reader returns.

The classes follow the tables of Sophgo's ``bmodel.fbs`` but hold payloads as
``bytes`` instead of ``Binary{start, size}`` references: the writer places them in
the file's blob (identical payloads once) and the reader cuts them back out.

Where a backend keeps data of its own. The runtime reads a fixed schema, so anything
beyond tensors and weights must sit in a field the schema already has:

* the command streams (or a simulator's own program encoding) go in
  ``CmdGroup.bdc`` / ``CmdGroup.gdma``;
* per-stage metadata (for example a JSON document) goes in one of the stage's free
  binaries: ``NetStage.net_profile`` (TPU-MLIR keeps its profile text there),
  ``net_stat``, ``tensor_loc`` (TPU-MLIR keeps a tensor-location JSON there) or
  ``binary_ir`` (the dynamic-shape IR of dynamic nets);
* named weights are ``CoeffLocation`` entries inside ``CoeffMem.data``;
* whole-file named payloads are the ``KernelModule`` / ``CpuopModule`` (one file
  name and one binary each) and the unnamed ``BModel.lib_backend``.

There is deliberately no free-form "extra binaries" mapping: the schema has no place
that would carry one through the official tools.
"""

from __future__ import annotations

import hashlib
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sophonc.formats.bmodel.dtypes import BModelDType, dtype_from_code
from sophonc.formats.bmodel.schema import (
    CONTAINER_VERSION,
    HIDDEN_INTERNAL,
    MEM_TYPE_TPU,
    MODEL_TYPE,
    SUBNET_TPU,
)

_U32 = (0, 2**32 - 1)
_U64 = (0, 2**64 - 1)
_I32 = (-(2**31), 2**31 - 1)


def _check_range(value: int, bounds: tuple[int, int], what: str) -> None:
    if not bounds[0] <= value <= bounds[1]:
        lo, hi = bounds
        raise ValueError(f"{what} = {value} does not fit its bmodel field ({lo}..{hi})")


def _as_float32(value: float, what: str) -> float:
    """The value a f32 field will hand back, so that written == read."""
    try:
        return float(struct.unpack("<f", struct.pack("<f", value))[0])
    except OverflowError:
        raise ValueError(f"{what} = {value} does not fit a float32 bmodel field") from None


@dataclass(frozen=True, slots=True)
class TensorInfo:
    """A net input/output tensor: where it lives in device memory and how to read it.

    ``size`` is its size in device memory in bytes; ``scale``/``zero_point`` are the
    quantization a user applies (``real = (q - zero_point) * scale``); ``hidden`` is
    its role (1 net input, 2 net output) and ``index`` its position in that role.
    """

    name: str
    dtype: BModelDType
    shape: tuple[int, ...]
    device_addr: int
    size: int
    scale: float = 1.0
    zero_point: int = 0
    mem_type: int = MEM_TYPE_TPU
    hidden: int = HIDDEN_INTERNAL
    index: int = 0
    gmem_stmode: int = 0
    pad_h: int = 0

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a bmodel tensor needs a name")
        object.__setattr__(self, "dtype", dtype_from_code(int(self.dtype)))
        object.__setattr__(self, "shape", tuple(int(d) for d in self.shape))
        object.__setattr__(self, "scale", _as_float32(self.scale, f"tensor '{self.name}' scale"))
        for dim in self.shape:
            _check_range(dim, _U64, f"tensor '{self.name}' dimension")
        _check_range(self.device_addr, _U64, f"tensor '{self.name}' device_addr")
        _check_range(self.size, _U64, f"tensor '{self.name}' size")
        _check_range(self.mem_type, _U32, f"tensor '{self.name}' mem_type")
        _check_range(self.pad_h, _U32, f"tensor '{self.name}' pad_h")
        for what in ("zero_point", "hidden", "index", "gmem_stmode"):
            _check_range(getattr(self, what), _I32, f"tensor '{self.name}' {what}")


@dataclass(frozen=True, slots=True)
class CoeffLocation:
    """One op's weights: ``size`` bytes at ``offset`` inside ``CoeffMem.data``."""

    name: str
    offset: int
    size: int

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a coeff location needs a name")
        _check_range(self.offset, _U64, f"coeff location '{self.name}' offset")
        _check_range(self.size, _U64, f"coeff location '{self.name}' size")


@dataclass(frozen=True, slots=True)
class CoeffMem:
    """The weights of a stage, loaded at device ``address``.

    The SHA-256 check code the runtime verifies is derived from ``data`` by the
    writer (and checked by the reader), so it cannot disagree with the payload.
    """

    address: int
    data: bytes
    locations: tuple[CoeffLocation, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", bytes(self.data))
        object.__setattr__(self, "locations", tuple(self.locations))
        _check_range(self.address, _U64, "coeff address")

    @property
    def check_code(self) -> bytes:
        """SHA-256 of the weights, as stored in ``CoeffMem.check_code``."""
        return hashlib.sha256(self.data).digest()


@dataclass(frozen=True, slots=True)
class CmdGroup:
    """One batch of commands: ``bdc_num`` TIU (BDC) and ``gdma_num`` GDMA commands.

    ``bdc_cmd_byte``/``gdma_cmd_byte`` are the byte lengths the runtime copies; use
    :meth:`of` to take them from the payloads.
    """

    bdc_num: int
    gdma_num: int
    bdc: bytes
    gdma: bytes
    bdc_cmd_byte: int
    gdma_cmd_byte: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "bdc", bytes(self.bdc))
        object.__setattr__(self, "gdma", bytes(self.gdma))
        for what in ("bdc_num", "gdma_num", "bdc_cmd_byte", "gdma_cmd_byte"):
            _check_range(getattr(self, what), _U32, f"cmd group {what}")

    @classmethod
    def of(cls, bdc_num: int, gdma_num: int, bdc: bytes, gdma: bytes) -> CmdGroup:
        """A group whose byte counts are the payload lengths (what TPU-MLIR writes)."""
        return cls(bdc_num, gdma_num, bdc, gdma, len(bdc), len(gdma))


@dataclass(frozen=True, slots=True)
class SubNet:
    """One piece of a stage the runtime runs in turn (TPU-MLIR: one per static net).

    ``next_subnet_ids`` lists the subnets run after this one; ``(-1,)`` ends the net.
    """

    input_tensors: tuple[TensorInfo, ...]
    output_tensors: tuple[TensorInfo, ...]
    cmd_groups: tuple[CmdGroup, ...] = ()
    id: int = 0
    next_subnet_ids: tuple[int, ...] = (-1,)
    subnet_mode: int = SUBNET_TPU
    is_dynamic: bool = False
    ir_offset: int = 0
    ir_len: int = 0
    run_core: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_tensors", tuple(self.input_tensors))
        object.__setattr__(self, "output_tensors", tuple(self.output_tensors))
        object.__setattr__(self, "cmd_groups", tuple(self.cmd_groups))
        object.__setattr__(self, "next_subnet_ids", tuple(self.next_subnet_ids))
        object.__setattr__(self, "is_dynamic", bool(self.is_dynamic))
        for number in (self.id, self.subnet_mode, *self.next_subnet_ids):
            _check_range(number, _I32, "subnet id/mode")
        for what in ("ir_offset", "ir_len", "run_core"):
            _check_range(getattr(self, what), _U32, f"subnet {what}")


@dataclass(frozen=True, slots=True)
class NetStage:
    """One compiled input shape of a net (``bmodel.NetParameter``).

    ``ctx_addr``/``ctx_size`` are the device region of activations. ``cmd_groups``
    are all the TPU commands of the stage. When ``sub_nets`` is empty it becomes the
    single TPU subnet TPU-MLIR writes for a static net: id 0, end of net, the stage's
    tensors and command groups repeated.
    """

    input_tensors: tuple[TensorInfo, ...]
    output_tensors: tuple[TensorInfo, ...]
    ctx_addr: int
    ctx_size: int
    coeff_mem: CoeffMem | None = None
    cmd_groups: tuple[CmdGroup, ...] = ()
    sub_nets: tuple[SubNet, ...] = ()
    net_profile: bytes = b""
    binary_ir: bytes = b""
    net_stat: bytes = b""
    tensor_loc: bytes = b""
    cpu_mem_size: int = 0
    core_num: int = 0
    io_addr: int = 0
    io_size: int = 0
    is_dynamic: bool = False
    n_dynamic: bool = False
    h_w_dynamic: bool = False

    def __post_init__(self) -> None:
        for name in ("input_tensors", "output_tensors", "cmd_groups", "sub_nets"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("net_profile", "binary_ir", "net_stat", "tensor_loc"):
            object.__setattr__(self, name, bytes(getattr(self, name)))
        for name in ("is_dynamic", "n_dynamic", "h_w_dynamic"):
            object.__setattr__(self, name, bool(getattr(self, name)))
        for what in ("ctx_addr", "ctx_size", "io_addr", "io_size"):
            _check_range(getattr(self, what), _U64, f"stage {what}")
        for what in ("cpu_mem_size", "core_num"):
            _check_range(getattr(self, what), _U32, f"stage {what}")
        if not self.sub_nets:
            single = SubNet(
                self.input_tensors,
                self.output_tensors,
                self.cmd_groups,
                is_dynamic=self.is_dynamic,
            )
            object.__setattr__(self, "sub_nets", (single,))


@dataclass(frozen=True, slots=True)
class Net:
    """A named network with one stage per compiled input shape."""

    name: str
    stages: tuple[NetStage, ...]
    addr_mode: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "stages", tuple(self.stages))
        if not self.name:
            raise ValueError("a bmodel net needs a name")
        if not self.stages:
            raise ValueError(f"net '{self.name}' has no stage")
        _check_range(self.addr_mode, _I32, f"net '{self.name}' addr_mode")


@dataclass(frozen=True, slots=True)
class KernelModule:
    """The firmware library the runtime loads onto the chip before running the nets."""

    file_name: str
    data: bytes
    mode: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", bytes(self.data))
        _check_range(self.mode, _I32, "kernel module mode")


@dataclass(frozen=True, slots=True)
class CpuopModule:
    """The host library that implements CPU subnets."""

    file_name: str
    data: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", bytes(self.data))


@dataclass(frozen=True, slots=True)
class BModel:
    """A whole ``.bmodel``: the chip, the compiler version and time, and the nets.

    ``time`` is stored as given (TPU-MLIR writes ``ctime()`` text with its trailing
    newline; see :func:`create_time`), so the same model always gives the same
    bytes. ``neuron_size`` is the largest ``ctx_size`` (see :func:`neuron_size_of`).
    """

    chip: str
    version: str
    time: str
    nets: tuple[Net, ...]
    neuron_size: int
    kernel_module: KernelModule | None = None
    cpuop_module: CpuopModule | None = None
    device_num: int = 1
    bmodel_type: int = 0
    lib_backend: bytes = b""
    type_tag: str = MODEL_TYPE

    def __post_init__(self) -> None:
        object.__setattr__(self, "nets", tuple(self.nets))
        object.__setattr__(self, "lib_backend", bytes(self.lib_backend))
        if not self.chip:
            raise ValueError("a bmodel needs a chip name")
        if not self.nets:
            raise ValueError("a bmodel needs at least one net")
        names = [net.name for net in self.nets]
        if len(set(names)) != len(names):
            raise ValueError(f"bmodel net names repeat: {names}")
        _check_range(self.neuron_size, _U64, "neuron_size")
        _check_range(self.device_num, _U32, "device_num")
        _check_range(self.bmodel_type, _U32, "bmodel_type")


def neuron_size_of(nets: Sequence[Net]) -> int:
    """The ``neuron_size`` TPU-MLIR writes: the largest ``ctx_size`` of any stage."""
    return max((stage.ctx_size for net in nets for stage in net.stages), default=0)


def create_time(moment: datetime | float) -> str:
    """``moment`` as the ``ctime()`` text TPU-MLIR stores (``'Tue Dec  3 19:48:36 2024\\n'``)."""
    stamp = moment.timetuple() if isinstance(moment, datetime) else time.gmtime(moment)
    return time.asctime(stamp) + "\n"


def version_string(compiler_version: str) -> str:
    """``Model.version`` for a compiler version: ``'2.2+<compiler version>'``."""
    return f"{CONTAINER_VERSION}+{compiler_version}"
