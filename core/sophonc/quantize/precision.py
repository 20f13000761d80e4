"""Deciding the precision of every node before quantization.

Order of authority: the user's qtable (a node name → mode), then the target's
list of ops it keeps in float in INT8 mode, then INT8. A node whose outputs are
not floating point (shape arithmetic, indices) has no precision. The decision is
recorded as ``meta["precision"]`` on each float output, which the backend's
lowering reads.
"""

from __future__ import annotations

from collections.abc import Mapping

from sophonc.api import TargetSpec
from sophonc.errors import SophonError
from sophonc.ir.module import Module
from sophonc.ir.node import Node

PRECISION = "precision"
FLOAT_DTYPES = ("f32", "f16", "bf16", "f64")


def has_float_output(node: Node) -> bool:
    """Whether ``node`` produces a floating-point tensor."""
    return any(o.dtype in FLOAT_DTYPES for o in node.outputs)


def check_overrides(module: Module, overrides: Mapping[str, str], target: TargetSpec) -> None:
    """Every qtable name must be a node of the module, every mode one the chip runs."""
    names = {n.name for n in module.graph.nodes} | {
        o.name for n in module.graph.nodes for o in n.outputs
    }
    for name, mode in overrides.items():
        if name not in names:
            raise SophonError(
                f"the quantize table names layer '{name}', which the model does not have; "
                f"use the tensor names of the transformed model (e.g. from the calibration "
                f"table)"
            )
        if mode not in target.precisions:
            raise SophonError(
                f"the quantize table asks for {mode} at '{name}', but {target.chip} runs "
                f"{', '.join(sorted(target.precisions))}"
            )


def assign_precisions(
    module: Module, target: TargetSpec, overrides: Mapping[str, str], default: str = "INT8"
) -> dict[str, str]:
    """Record every float node's precision; returns node name -> precision."""
    check_overrides(module, overrides, target)
    decided: dict[str, str] = {}
    for node in module.graph.nodes:
        if not has_float_output(node):
            continue
        mode = overrides.get(node.name) or overrides.get(node.outputs[0].name)
        if mode is None:
            mode = (
                target.int8_float_ops.get(node.op_type, default) if default == "INT8" else default
            )
        decided[node.name] = mode
        for out in node.outputs:
            out.meta[PRECISION] = mode
    return decided


def mark_all(module: Module, mode: str) -> None:
    """Every float node in ``mode`` (F32/F16/BF16 deploys need no quantizer)."""
    for node in module.graph.nodes:
        if has_float_output(node):
            for out in node.outputs:
                out.meta[PRECISION] = mode
