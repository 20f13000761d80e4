"""The ``.bmodel`` container of Sophgo's BM168x runtime: write, read, describe.

A bmodel is a 64-byte header, a ``bmodel.Model`` flatbuffer and a binary blob
(see :mod:`sophonc.formats.bmodel.schema`). :func:`write_bmodel` and
:func:`read_bmodel` convert between those bytes and the frozen dataclasses of
:mod:`sophonc.formats.bmodel.model`; :func:`describe` prints what the official
``model_tool --info`` prints.
"""

from __future__ import annotations

from sophonc.formats.bmodel.dtypes import BModelDType, dtype_from_code, dtype_from_ir_name
from sophonc.formats.bmodel.info import describe, memory_totals
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
    create_time,
    neuron_size_of,
    version_string,
)
from sophonc.formats.bmodel.reader import load_bmodel, read_bmodel
from sophonc.formats.bmodel.schema import HIDDEN_INPUT, HIDDEN_INTERNAL, HIDDEN_OUTPUT
from sophonc.formats.bmodel.writer import save_bmodel, write_bmodel

__all__ = [
    "HIDDEN_INPUT",
    "HIDDEN_INTERNAL",
    "HIDDEN_OUTPUT",
    "BModel",
    "BModelDType",
    "CmdGroup",
    "CoeffLocation",
    "CoeffMem",
    "CpuopModule",
    "KernelModule",
    "Net",
    "NetStage",
    "SubNet",
    "TensorInfo",
    "create_time",
    "describe",
    "dtype_from_code",
    "dtype_from_ir_name",
    "load_bmodel",
    "memory_totals",
    "neuron_size_of",
    "read_bmodel",
    "save_bmodel",
    "version_string",
    "write_bmodel",
]
