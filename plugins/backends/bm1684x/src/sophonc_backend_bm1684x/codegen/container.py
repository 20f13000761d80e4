"""The bmodel around a program: tensors, coefficient memory, the command group.

Layout (TPU-MLIR's for a static single-stage BM1684X net, TPU-MLIR's rules): one net
named after the model, one stage; net inputs/outputs are described with their
device addresses in the context region; weights are the coefficient memory (with
per-weight locations); the encoded program is the stage's command group (counted
as one BDC "command" per program node). The creation time comes from
``SOURCE_DATE_EPOCH`` (0 when unset), so the same program always gives the same
bytes.
"""

from __future__ import annotations

import os

from sophonc import __version__
from sophonc.errors import SophonError
from sophonc.formats.bmodel import (
    HIDDEN_INPUT,
    HIDDEN_OUTPUT,
    BModel,
    CmdGroup,
    CoeffLocation,
    CoeffMem,
    Net,
    NetStage,
    TensorInfo,
    create_time,
    dtype_from_ir_name,
    read_bmodel,
    version_string,
    write_bmodel,
)
from sophonc.ir.module import Module
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.codegen.encoding import DecodedProgram, decode_program, encode_program
from sophonc_backend_bm1684x.codegen.memory import Placement, plan_memory
from sophonc_backend_bm1684x.target import GMEM_START_ADDR

CHIP = "BM1684X"


def _build_time() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        return create_time(float(epoch))
    except ValueError:
        raise SophonError(
            f"SOURCE_DATE_EPOCH '{epoch}' is not a number of seconds; unset it or fix it"
        ) from None


def _tensor(value: Value, placement: Placement, hidden: int, index: int) -> TensorInfo:
    _, offset, size = placement.slots[value.name]
    try:
        dtype = dtype_from_ir_name(value.dtype)
    except (KeyError, ValueError):
        raise SophonError(
            f"net input/output '{value.name}' has type {value.dtype}, which a bmodel cannot "
            f"describe; cut the model before it (--output_names) or cast it to float"
        ) from None
    scale, zp = (1.0, 0)
    if value.quant is not None:
        scale, zp = value.quant.scale[0], value.quant.zero_point[0]
    return TensorInfo(
        name=value.name,
        dtype=dtype,
        shape=value.shape,
        device_addr=GMEM_START_ADDR + offset,
        size=size,
        scale=scale,
        zero_point=zp,
        hidden=hidden,
        index=index,
    )


def build_bmodel(program: Module, net_name: str) -> bytes:
    """The ``.bmodel`` bytes of a lowered program (deterministic)."""
    placement = plan_memory(program)
    code = encode_program(program, placement)
    graph = program.graph
    inputs = tuple(_tensor(v, placement, HIDDEN_INPUT, i) for i, v in enumerate(graph.inputs))
    outputs = tuple(_tensor(v, placement, HIDDEN_OUTPUT, i) for i, v in enumerate(graph.outputs))
    coeff = None
    if placement.coeff:
        locations = tuple(CoeffLocation(n, off, size) for n, off, size in placement.coeff_names)
        coeff = CoeffMem(GMEM_START_ADDR, placement.coeff, locations)
    stage = NetStage(
        input_tensors=inputs,
        output_tensors=outputs,
        ctx_addr=GMEM_START_ADDR,
        ctx_size=placement.ctx_size,
        coeff_mem=coeff,
        cmd_groups=(CmdGroup.of(len(graph.nodes), 0, code, b""),),
    )
    model = BModel(
        chip=CHIP,
        version=version_string(f"sophonc-{__version__}"),
        time=_build_time(),
        nets=(Net(net_name or "net", (stage,)),),
        neuron_size=placement.ctx_size,
    )
    return write_bmodel(model)


def read_program(data: bytes, source: str) -> DecodedProgram:
    """The program stored in bmodel bytes (container and encoding checked)."""
    model = read_bmodel(data, source)
    if model.chip.upper() != CHIP:
        raise SophonError(
            f"{source} was compiled for {model.chip}, not {CHIP}; run it with that chip's backend"
        )
    net = model.nets[0]
    stage = net.stages[0]
    if not stage.cmd_groups:
        raise SophonError(f"{source}: the net has no commands; recompile the model")
    coeff = stage.coeff_mem.data if stage.coeff_mem is not None else b""
    return decode_program(stage.cmd_groups[0].bdc, coeff, source, net.name)
