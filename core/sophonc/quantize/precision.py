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
from sophonc.ir.shadows import shadows

PRECISION = "precision"
FLOAT_DTYPES = ("f32", "f16", "bf16", "f64")


def has_float_output(node: Node) -> bool:
    """Whether ``node`` produces a floating-point tensor."""
    return any(o.dtype in FLOAT_DTYPES for o in node.outputs)


def layer_names(module: Module) -> dict[str, Node]:
    """Every name a qtable may use for a node: its own, its outputs', then the
    names its outputs carry for tensors a rewrite fused into them (aliases and
    shadows, so a qtable written against TPU-MLIR's graph still finds the op)."""
    found: dict[str, Node] = {}
    for node in module.graph.nodes:
        found.setdefault(node.name, node)
        for out in node.outputs:
            found.setdefault(out.name, node)
    for node in module.graph.nodes:
        for out in node.outputs:
            for shadow in shadows(out):
                found.setdefault(shadow.name, node)
    return found


def check_overrides(
    module: Module, overrides: Mapping[str, str], target: TargetSpec
) -> dict[str, Node]:
    """Every qtable name must name a node of the module, every mode one the chip
    runs; returns the name → node lookup."""
    names = layer_names(module)
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
    return names


def with_fused_names(module: Module, overrides: Mapping[str, str]) -> dict[str, str]:
    """``overrides`` plus, after each line, the same mode for the names of the
    tensors fused into that node (aliases and shadows), so that the official
    ``model_deploy``, whose graph keeps some of them as ops, finds the layer too
    (it skips names it does not have)."""
    nodes = layer_names(module)
    result: dict[str, str] = {}
    for name, mode in overrides.items():
        result.setdefault(name, mode)
        node = nodes.get(name)
        if node is None:
            continue
        for out in node.outputs:
            for shadow in shadows(out):
                result.setdefault(shadow.name, mode)
    return result


def assign_precisions(
    module: Module, target: TargetSpec, overrides: Mapping[str, str], default: str = "INT8"
) -> dict[str, str]:
    """Record every float node's precision; returns node name -> precision."""
    names = check_overrides(module, overrides, target)
    wanted: dict[int, str] = {}
    for name, asked in overrides.items():
        wanted.setdefault(id(names[name]), asked)
    decided: dict[str, str] = {}
    for node in module.graph.nodes:
        if not has_float_output(node):
            continue
        mode = wanted.get(id(node)) or (
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
