"""Each layer's harm, measured two ways on the search samples.

*Accumulated*: the all-INT8 program runs once per sample; every tensor it
computes is compared with F32 — the error that has built up by that layer.

*Alone*: only this layer quantized, everything else float. Re-running the
whole network per layer is not needed: the layer's unit program reads the F32
reference activations (so everything before it is float by construction), and
its perturbed output runs through the F32 graph downstream of it only. The
result equals a full run of the network with just that layer in INT8, for the
price of one op plus the part of the network after it. Layers whose INT8 output
equals the F32 one exactly cost nothing further.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.api import Arrays, Backend
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc_quant_mixed.probes import Downstream, UnitProgram
from sophonc_quant_mixed.similarity import OutputJudge, tensor_cosine

Array = npt.NDArray[np.generic]
Tick = Callable[[], None]


def _no_tick() -> None:
    return None


def references(module: Module, inputs: Sequence[Arrays]) -> Iterator[dict[str, Array]]:
    """Every tensor of the F32 module, one sample at a time (so memory holds one dump)."""
    interpreter = Interpreter(module)
    for feeds in inputs:
        yield interpreter.run(feeds, dump_all=True)


def reference_outputs(module: Module, inputs: Sequence[Arrays]) -> list[dict[str, Array]]:
    """The F32 network outputs of every sample."""
    interpreter = Interpreter(module)
    return [interpreter.run(feeds) for feeds in inputs]


@dataclass
class Baseline:
    """The all-INT8 program against F32 on the search samples.

    ``outputs_cos`` is the judged mean (quiet samples left out, see
    :mod:`sophonc_quant_mixed.similarity`), ``plain_cos`` TPU-MLIR's plain mean.
    """

    outputs_cos: float
    plain_cos: float
    tensor_cos: dict[str, float]
    materialized: frozenset[str]


def measure_baseline(
    module: Module,
    program: Module,
    backend: Backend,
    inputs: Sequence[Arrays],
    judge: OutputJudge,
    tick: Tick = _no_tick,
) -> Baseline:
    """Output and per-tensor cosines of the all-INT8 ``program`` (means over samples)."""
    sums: dict[str, float] = {}
    total = plain = 0.0
    counted = 0
    names: frozenset[str] = frozenset()
    for feeds, ref in zip(inputs, references(module, inputs), strict=True):
        got = backend.run_program(program, feeds, dump_all=True)
        names = frozenset(got)
        if not judge.quiet(got, ref):
            total += judge.cosine(got, ref)
            counted += 1
        plain += judge.plain_cosine(got, ref)
        for name, arr in got.items():
            want = ref.get(name)
            if want is not None and want.shape == arr.shape and arr.dtype.kind == "f":
                sums[name] = sums.get(name, 0.0) + tensor_cosine(arr, want)
        tick()
    count = len(inputs)
    tensor_cos = {name: s / count for name, s in sums.items()}
    outputs_cos = total / counted if counted else 1.0
    return Baseline(outputs_cos, plain / count, tensor_cos, names)


@dataclass
class LayerHarm:
    """One layer measured alone: harm at the outputs and error at its own output.

    ``harm`` is 1 − the outputs' mean cosine; ``own_cos`` its own output's mean
    cosine; ``own_error`` the summed squared error of its own output (screening
    thresholds: a smaller error there is what a better threshold must give).
    """

    harm: float = 0.0
    own_cos: float = 1.0
    own_error: float = 0.0


@dataclass
class _Sums:
    cos: float = 0.0
    own: float = 0.0
    error: float = 0.0
    samples: int = 0


def measure_alone(
    units: Sequence[UnitProgram],
    downstream: Mapping[str, Downstream],
    backend: Backend,
    refs: Iterable[Mapping[str, Array]],
    judge: OutputJudge,
    *,
    propagate: bool = True,
    tick: Tick = _no_tick,
) -> list[LayerHarm]:
    """Each unit's :class:`LayerHarm` over the samples ``refs`` yields (F32 dumps).

    ``downstream`` maps a layer name to its downstream graph; without
    ``propagate`` only the own-output measures are taken (harm stays 0).
    """
    sums = [_Sums() for _ in units]
    for ref in refs:
        for unit, acc in zip(units, sums, strict=True):
            got = unit.run(backend, ref)
            acc.samples += 1
            own = [tensor_cosine(got[n], ref[n]) for n in unit.produced]
            acc.own += sum(own) / len(own)
            acc.error += sum(_squared_error(got[n], ref[n]) for n in unit.produced)
            exact = all(np.array_equal(got[n], ref[n]) for n in unit.produced)
            if not propagate or exact:
                acc.cos += 1.0
                continue
            acc.cos += downstream[unit.layer.name].outputs_cosine(got, ref, judge)
        tick()
    return [
        LayerHarm(1.0 - s.cos / s.samples, s.own / s.samples, s.error / s.samples)
        if s.samples
        else LayerHarm()
        for s in sums
    ]


def _squared_error(got: Array, want: Array) -> float:
    diff = np.asarray(got, np.float64) - np.asarray(want, np.float64)
    return float(np.sum(diff * diff))
