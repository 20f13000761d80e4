"""TPU-MLIR's tune step after ``kl``: widen thresholds that clip too much.

Ops are visited in graph order. An op tunes each of its activation inputs not
tuned yet; an op whose inputs are all tuned already tunes its first input again
(so a tensor read by several ops is judged by more than one). For the tensor
being tuned, candidates ``th_k = th_kl + k·(abs_max - th_kl)/21``, ``k = 0…21``,
always start from its KL threshold (skipped when ``abs_max - th_kl <= 0.01``).
A candidate fake-quantizes *every* activation input of the op with that
threshold (``clip(round(x·127/th), -128, 127)·th/127``, as TPU-MLIR does), keeps
the op's weights in float, and runs only this op; its
distance to the F32 op output is ``||ref - out||₂ / ||ref||₁``, averaged over
the tune samples. The candidate with the smallest distance wins (the earliest on
a tie, so ``k = 0`` stays unless another is strictly better), and the table
keeps the larger of its current and the new threshold.

An op our fusions grew (a Conv that absorbed the MulConst and AddConst TPU-MLIR
keeps after it) is judged on its own output, the earliest shadow its result
carries (:func:`op_output`), as TPU-MLIR's graph runs it.

Float weights are what TPU-MLIR 1.30.2 tunes with: with them all four rows of
the PP-OCR classifier that differed before equal its table to 7 digits
(``relu_4`` 9.1017628, was 9.8236756 with per-channel int8 weights), and a
per-tensor int8 weight leaves them as they were.

Distances are accumulated sample by sample, so only one sample's tensors are in
memory at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.calibration.statistics import CalibrationStatistics
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.shadows import shadow_values, shadows
from sophonc.ir.value import Value
from sophonc.ops.registry import get_schema

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
TUNE_STEPS = 21
MIN_GAP = 0.01
FLOAT_DTYPES = ("f32", "f16", "bf16", "f64")


def fake_quant(x: npt.ArrayLike, threshold: float) -> F32:
    """``clip(round(x·127/th), -128, 127)·th/127`` in f32 (round half to even, as numpy)."""
    th = np.float32(threshold)
    q = np.array(np.asarray(x, np.float32) * (np.float32(127.0) / th), dtype=np.float32)
    np.rint(q, out=q)
    np.clip(q, -128, 127, out=q)
    q *= th / np.float32(127.0)
    return q


def op_output(value: Value, data: npt.NDArray[np.generic]) -> npt.NDArray[np.generic]:
    """``data`` as TPU-MLIR's op produces it: the earliest shadow ``value`` carries.

    Our fusions fold the per-channel affine ops after an op into it (a Conv
    absorbs the MulConst and AddConst TPU-MLIR keeps); the distance of a
    candidate must be measured on the op's own output, before them, or the
    folded per-channel scales reweigh the channels and another candidate wins.
    """
    found = shadows(value)
    return shadow_values(found[-1], data) if found else data


class _Reference:
    """An op's F32 output, flattened once, with its L1 norm (reused by 22 candidates)."""

    def __init__(self, outputs: Sequence[npt.NDArray[np.generic]]) -> None:
        self.flat = np.concatenate([np.asarray(a, np.float32).reshape(-1) for a in outputs])
        self.l1 = float(np.abs(self.flat).sum(dtype=np.float64))

    def distance(self, outputs: Sequence[npt.NDArray[np.generic]]) -> float:
        """``||ref - out||₂ / ||ref||₁`` (f32 differences, as TPU-MLIR computes them)."""
        if len(outputs) == 1:
            out = np.asarray(outputs[0], np.float32).reshape(-1)
        else:
            out = np.concatenate([np.asarray(a, np.float32).reshape(-1) for a in outputs])
        diff = self.flat - out
        norm2 = float(np.sqrt(np.dot(diff, diff)))
        return norm2 / self.l1 if self.l1 > 0 else norm2


class _Target:
    """One (op, input) to tune: its candidates and running distance sums."""

    def __init__(self, node: Node, index: int, candidates: npt.NDArray[np.float64]) -> None:
        self.node = node
        self.index = index
        self.candidates = candidates
        self.sums = np.zeros(len(candidates))


def _tuned_inputs(node: Node, table: CalibrationTable, stats: CalibrationStatistics) -> list[int]:
    """Input slots of ``node`` holding calibrated float activations."""
    return [
        i
        for i, v in enumerate(node.inputs)
        if v is not None
        and v.const is None
        and v.dtype in FLOAT_DTYPES
        and v.name in table
        and v.name in stats
    ]


def _targets(
    module: Module, table: CalibrationTable, stats: CalibrationStatistics
) -> list[_Target]:
    tuned: set[str] = set()
    found: list[_Target] = []
    for node in module.graph.nodes:
        if not any(o.dtype in FLOAT_DTYPES for o in node.outputs):
            continue
        slots = _tuned_inputs(node, table, stats)
        if not slots:
            continue
        names = [node.input(i).name for i in slots]
        if all(n in tuned for n in names):
            chosen = [slots[0]]
        else:
            chosen = [i for i, n in zip(slots, names, strict=True) if n not in tuned]
        for i in chosen:
            name = node.input(i).name
            tuned.add(name)
            th = float(table[name].threshold)
            gap = stats[name].abs_max - th
            if gap <= MIN_GAP:
                continue
            ks = np.arange(TUNE_STEPS + 1, dtype=np.float64)
            found.append(_Target(node, i, th + ks * gap / TUNE_STEPS))
    return found


def _op_inputs(
    target: _Target, dump: Mapping[str, npt.NDArray[np.generic]]
) -> list[npt.NDArray[np.generic] | None]:
    """The op's inputs: weights as they are, activations as dumped."""
    args: list[npt.NDArray[np.generic] | None] = []
    for v in target.node.inputs:
        if v is None:
            args.append(None)
        elif v.const is not None:
            args.append(v.const)
        else:
            args.append(dump[v.name])
    return args


def tune_thresholds(
    module: Module,
    table: CalibrationTable,
    stats: CalibrationStatistics,
    samples: Sequence[Mapping[str, npt.ArrayLike]],
) -> CalibrationTable:
    """The table after the tune step (a new table; ``table`` is not changed)."""
    targets = _targets(module, table, stats)
    if not targets or not samples:
        return CalibrationTable({k: table[k] for k in table})
    interpreter = Interpreter(module)
    for feeds in samples:
        dump = interpreter.run(feeds, dump_all=True)
        for target in targets:
            node = target.node
            kernel = get_schema(node.op_type).kernel
            ref = _Reference([op_output(o, dump[o.name]) for o in node.outputs])
            args = _op_inputs(target, dump)
            slots = _tuned_inputs(node, table, stats)
            originals = {i: np.asarray(dump[node.input(i).name], np.float32) for i in slots}
            for k, th in enumerate(target.candidates):
                for i, x in originals.items():
                    args[i] = fake_quant(x, float(th))
                results = kernel(node, args)
                target.sums[k] += ref.distance(
                    [op_output(o, r) for o, r in zip(node.outputs, results, strict=True)]
                )
        del dump
    tuned = CalibrationTable({k: table[k] for k in table})
    for target in targets:
        name = target.node.input(target.index).name
        best = 0
        for k in range(1, len(target.candidates)):
            if target.sums[k] < target.sums[best]:
                best = k
        old = tuned[name]
        new = max(float(old.threshold), float(target.candidates[best]))
        tuned[name] = TableEntry(new, old.min, old.max)
    log.info("tuned %d thresholds over %d samples", len(targets), len(samples))
    return tuned
