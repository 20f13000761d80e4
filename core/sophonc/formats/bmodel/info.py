"""A text summary of a bmodel, line for line what the official ``model_tool --info`` prints.

Users compare our bmodels with TPU-MLIR's through ``model_tool --info``; printing
the same lines from the same fields lets them (and our tests) diff the two without
the official toolchain. The memory totals follow the accounting of ``model_tool``
1.30.2 exactly, including its quirks, because matching it is the point:

* each stage of a net is accounted with the figures of the net's first stage
  (the tool reads ``parameter[0]`` inside its stage loop);
* weight = coeff blob sizes, each distinct SHA-256 check code counted once;
* instruct = the BDC and GDMA binary sizes of every static TPU subnet (BM1684 counts
  128 bytes a command, BM1682 256), plus 4 bytes per dynamic IR word;
* runtime = the largest ``ctx_size`` over nets of a single subnet, plus the
  ``ctx_size`` of the last net if that net has several subnets (the tool resets
  that sum per net), plus on BM1684 only the largest net input/output at 4 bytes an
  element (1 for int8/uint8).

The tool's closing estimates (CPU peak memory, 4k alignment) describe its runtime's
loader rather than the file and are not reproduced.
"""

from __future__ import annotations

import math

from sophonc.formats.bmodel.dtypes import BModelDType
from sophonc.formats.bmodel.model import BModel, Net, NetStage, TensorInfo
from sophonc.formats.bmodel.schema import SUBNET_TPU

#: Chips whose commands model_tool counts at a fixed size instead of their bytes.
_FIXED_COMMAND_BYTES = {"BM1682": 256, "BM1684": 128}
#: Chips for which model_tool adds the largest IO tensor to the runtime memory.
_MIDDLE_BUFFER_CHIPS = frozenset({"BM1684"})
#: model_tool's name for KernelModule.mode values; every other value prints "normal".
_KERNEL_MODES = {1: "rvti"}
_RULE = "=" * 42
_STAGE_RULE = "-" * 12


def _number(value: float) -> str:
    """A float the way a C++ ostream prints it by default (6 significant digits)."""
    return f"{value:g}"


def _shape(dims: tuple[int, ...], dynamic: bool) -> str:
    if not dims:
        return "[ ]"
    prefix = "max:" if dynamic else ""
    return "[" + ", ".join(f"{prefix}{d}" for d in dims) + "]"


def _tensor_line(role: str, tensor: TensorInfo, dynamic: bool) -> str:
    return (
        f"{role}: {tensor.name}, {_shape(tensor.shape, dynamic)}, {tensor.dtype.tool_name}, "
        f"scale: {_number(tensor.scale)}, zero_point: {tensor.zero_point}"
    )


def _stage_lines(index: int, stage: NetStage) -> list[str]:
    lines = [_STAGE_RULE, f"stage {index}, core num: {max(stage.core_num, 1)}"]
    if len(stage.sub_nets) > 1:
        lines.append(f"subnet number: {len(stage.sub_nets)}")
    dynamic_inputs = stage.n_dynamic or stage.h_w_dynamic
    lines += [_tensor_line("input", t, dynamic_inputs) for t in stage.input_tensors]
    lines += [_tensor_line("output", t, False) for t in stage.output_tensors]
    return lines


def _net_lines(index: int, net: Net) -> list[str]:
    kind = "dynamic" if net.stages[0].is_dynamic else "static"
    lines = [_RULE, f"net {index}: [{net.name}]  {kind}"]
    if net.addr_mode:
        lines.append(f"addr mode: {net.addr_mode}")
    for i, stage in enumerate(net.stages):
        lines += _stage_lines(i, stage)
    return lines


def _io_buffer_bytes(tensor: TensorInfo) -> int:
    per_element = 1 if tensor.dtype in (BModelDType.I8, BModelDType.U8) else 4
    return per_element * math.prod(tensor.shape)


def _instruction_bytes(chip: str, stage: NetStage) -> int:
    fixed = _FIXED_COMMAND_BYTES.get(chip)
    total = 0
    for sub in stage.sub_nets:
        if sub.subnet_mode != SUBNET_TPU:
            continue
        if sub.is_dynamic:
            total += 4 * sub.ir_len
            continue
        for group in sub.cmd_groups:
            if fixed is not None:
                total += fixed * (group.bdc_num + group.gdma_num)
            else:
                total += len(group.bdc) + len(group.gdma)
    return total


def memory_totals(model: BModel) -> tuple[int, int, int]:
    """(weight, instruct, runtime) device bytes as ``model_tool --info`` reports them."""
    weight = instruct = middle = 0
    check_codes: set[bytes] = set()
    multi_subnet_neuron = single_subnet_neuron = 0
    for net in model.nets:
        first = net.stages[0]
        multi_subnet_neuron = 0
        for _ in net.stages:
            coeff = first.coeff_mem
            if coeff is not None and coeff.check_code not in check_codes:
                check_codes.add(coeff.check_code)
                weight += len(coeff.data)
            instruct += _instruction_bytes(model.chip, first)
            for tensor in (*first.input_tensors, *first.output_tensors):
                middle = max(middle, _io_buffer_bytes(tensor))
        if len(first.sub_nets) > 1:
            multi_subnet_neuron = first.ctx_size
        else:
            single_subnet_neuron = max(single_subnet_neuron, first.ctx_size)
    runtime = multi_subnet_neuron + single_subnet_neuron
    if model.chip in _MIDDLE_BUFFER_CHIPS:
        runtime += middle
    return weight, instruct, runtime


def describe(model: BModel) -> list[str]:
    """The lines ``model_tool --info`` prints for ``model`` (without blank lines)."""
    chip = model.chip
    if model.device_num > 1:
        chip += f",  device num: {model.device_num}"
    created = model.time.removesuffix("\n")  # ctime() text ends in a newline
    lines = [
        f"bmodel version: {model.type_tag}.{model.version}",
        f"chip: {chip}",
        f"create time: {created}",
    ]
    kernel = model.kernel_module
    if kernel is None:
        lines.append("no kernel_module")
    else:
        lines += [
            f"kernel_module name: {kernel.file_name}",
            f"kernel_module size: {len(kernel.data)}",
            f"kernel mode: {_KERNEL_MODES.get(kernel.mode, 'normal')}",
        ]
    for i, net in enumerate(model.nets):
        lines += _net_lines(i, net)
    weight, instruct, runtime = memory_totals(model)
    host_runtime = 4 * sum(net.stages[0].cpu_mem_size for net in model.nets for _ in net.stages)
    lines += [
        f"device mem size: {weight + instruct + runtime} "
        f"(weight: {weight}, instruct: {instruct}, runtime: {runtime})",
        f"host mem size: {host_runtime} (weight: 0, runtime: {host_runtime})",
    ]
    return lines
