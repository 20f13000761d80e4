"""The bmodel layout facts shared by the writer and the reader.

A bmodel file is a 64-byte header, then a flatbuffer whose root is the
``bmodel.Model`` table, then one binary blob. Every ``Binary{start, size}`` struct in
the flatbuffer points into the blob, relative to the blob's first byte. The field
numbers below are the ids of Sophgo's public ``bmodel.fbs`` schema; they are the
file format, so they never change. Fields sophonc does not model are listed too,
so that the tables are opened with their full width.
"""

from __future__ import annotations

import struct
from enum import IntEnum
from typing import Final, NamedTuple

#: ``0xFF55AAEE`` little endian: the bytes EE AA 55 FF open every bmodel.
MAGIC: Final = 0xFF55AAEE
#: The magic of bmodels from the retired bmtap2 toolchain, which have another layout.
BMTAP2_MAGIC: Final = 0xFF55AAFF
#: magic u32, header_size u32, flatbuffers_size u32, binary_size u64, reserved u32 x 11.
HEADER: Final = struct.Struct("<IIIQ44x")
HEADER_SIZE: Final = 64
assert HEADER.size == HEADER_SIZE

#: ``Model.type``: the only kind the runtime knows.
MODEL_TYPE: Final = "B"
#: ``Model.version`` starts with the container version, then ``+`` and the compiler's.
CONTAINER_VERSION: Final = "2.2"

#: ``Binary {start: u64, size: u64}``: 16 bytes, aligned to 8.
BINARY_STRUCT: Final = struct.Struct("<QQ")

#: ``SubNet.subnet_mode`` of a subnet run on the TPU (1 is CPU, 2 merge, 3 switch).
SUBNET_TPU: Final = 0
#: ``Tensor.mem_type`` of a tensor in device memory used by the TPU.
MEM_TYPE_TPU: Final = 1
#: ``Tensor.hidden`` roles: intermediate, net input, net output.
HIDDEN_INTERNAL: Final = 0
HIDDEN_INPUT: Final = 1
HIDDEN_OUTPUT: Final = 2


class BinaryRef(NamedTuple):
    """Where one binary lives: ``size`` bytes from ``start`` in the blob."""

    start: int
    size: int


class ModelField(IntEnum):
    TYPE = 0
    VERSION = 1
    TIME = 2
    CHIP = 3
    NET = 4
    NEURON_SIZE = 5
    KERNEL_MODULE = 6
    DEVICE_NUM = 7
    CPUOP_MODULE = 8
    BMODEL_TYPE = 9
    LIB_BACKEND = 10


class NetField(IntEnum):
    NAME = 0
    NET_STATIC = 1
    NET_DYNAMIC = 2
    PARAMETER = 3
    CASCADE = 4
    ADDR_MODE = 5


class NetParameterField(IntEnum):
    INPUT_TENSOR = 0
    OUTPUT_TENSOR = 1
    CTX_ADDR = 2
    CTX_SIZE = 3
    COEFF_MEM = 4
    IS_DYNAMIC = 5
    N_DYNAMIC = 6
    H_W_DYNAMIC = 7
    CMD_GROUP = 8
    NET_PROFILE = 9
    STAGE_IR = 10
    BINARY_IR = 11
    SUB_NET = 12
    CPU_MEM_SIZE = 13
    CTX_SIZES = 14
    NET_STAT = 15
    CORE_NUM = 16
    IO_ADDR = 17
    IO_SIZE = 18
    TENSOR_LOC = 19
    DYNAMIC_CTX_ADDR = 20
    DYNAMIC_COEFF_OFFSET = 21
    DYNAMIC_COMBINED_COEFF_OFFSET = 22


class TensorField(IntEnum):
    NAME = 0
    DATA_TYPE = 1
    GMEM_STMODE = 2
    DEVICE_ADDR = 3
    SIZE = 4
    SHAPE = 5
    MEM_TYPE = 6
    SCALE = 7
    CPU_ADDR = 8
    PAD_H = 9
    ZERO_POINT = 10
    HIDDEN = 11
    INDEX = 12
    RELENTRY = 13


class ShapeField(IntEnum):
    DIM = 0


class CoeffMemField(IntEnum):
    ADDRESS = 0
    CHECK_CODE = 1
    BINARY_COEFF = 2
    LOCATION = 3
    ENCRYPT_MODE = 4
    DECRYPT_SIZE = 5


class LocationField(IntEnum):
    NAME = 0
    OFFSET = 1
    SIZE = 2


class CmdGroupField(IntEnum):
    BDC_NUM = 0
    GDMA_NUM = 1
    BINARY_BDC = 2
    BINARY_GDMA = 3
    BDC_CMD_BYTE = 4
    GDMA_CMD_BYTE = 5
    RELOC_ENTRIES = 6


class StageIRField(IntEnum):
    IR_INFO_LEN = 0
    HEIGHT_HIGH = 1
    HEIGHT_LOW = 2
    WIDTH_HIGH = 3
    WIDTH_LOW = 4


class SubNetField(IntEnum):
    SUBNET_MODE = 0
    CMD_GROUP = 1
    CPU_PARAM = 2
    INPUT_TENSOR = 3
    OUTPUT_TENSOR = 4
    IS_DYNAMIC = 5
    IR_OFFSET = 6
    IR_LEN = 7
    N_DYNAMIC = 8
    H_W_DYNAMIC = 9
    ID = 10
    NEXT_SUBNET_IDS = 11
    MERGE_PARAM = 12
    SWITCH_PARAM = 13
    CORE_COMMANDS = 14
    RUN_CORE = 15


class KernelModuleField(IntEnum):
    FILE_NAME = 0
    BINARY = 1
    MODE = 2


class CpuopModuleField(IntEnum):
    FILE_NAME = 0
    BINARY = 1
