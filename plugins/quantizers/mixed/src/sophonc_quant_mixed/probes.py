"""The lowered pieces that measure one layer: its unit program and its downstream graph.

A :class:`UnitProgram` is one layer lowered on its own by the backend (its
inputs are quantized with their calibrated types inside the program, exactly
as in the whole INT8 program), run on the F32 reference activations. A
:class:`Downstream` is the F32 graph after the layer, run by the reference
interpreter from the layer's perturbed output and the reference values of
everything else it reads. Both are built once and reused for every sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.api import Backend, DeployOptions
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc_quant_mixed.graph_slices import downstream_module, unit_module
from sophonc_quant_mixed.layers import Layer, layer_nodes
from sophonc_quant_mixed.similarity import OutputJudge

Array = npt.NDArray[np.generic]
Arrays = Mapping[str, Array]


@dataclass(frozen=True)
class UnitProgram:
    """One layer as a chip program: reads ``feeds``, computes ``produced``."""

    layer: Layer
    program: Module
    feeds: tuple[str, ...]
    produced: tuple[str, ...]

    def run(self, backend: Backend, reference: Arrays) -> dict[str, Array]:
        """The layer's outputs, computed in INT8 from the reference activations."""
        got = backend.run_program(self.program, {n: reference[n] for n in self.feeds})
        return {n: got[n] for n in self.produced}


def build_unit(
    quantized: Module,
    layer: Layer,
    backend: Backend,
    inputs_from: Module | None = None,
) -> UnitProgram:
    """Lower ``layer`` of an all-INT8 quantized module alone.

    With ``inputs_from`` (another quantized copy) the unit's inputs take their
    quantized types from it: another threshold is tried on the layer's output
    while its inputs keep the ones they have in the model.
    """
    unit = unit_module(quantized, layer_nodes(quantized, layer))
    if inputs_from is not None:
        values = inputs_from.graph.values()
        for v in unit.graph.inputs:
            if v.name in values:
                v.quant = values[v.name].quant
    options = DeployOptions(quantize="INT8", model_name=quantized.name)
    program = backend.lower(unit, options)
    feeds = tuple(v.name for v in unit.graph.inputs)
    produced = tuple(v.name for v in unit.graph.outputs)
    return UnitProgram(layer, program, feeds, produced)


@dataclass(frozen=True)
class Downstream:
    """The F32 graph after a layer, and how to feed it."""

    interpreter: Interpreter | None
    starts: tuple[str, ...]
    others: tuple[str, ...]

    def outputs_cosine(self, perturbed: Arrays, reference: Arrays, judge: OutputJudge) -> float:
        """The network outputs' mean cosine when the layer's outputs are ``perturbed``."""
        got: dict[str, Array] = {n: perturbed[n] for n in self.starts if n in judge.names}
        if self.interpreter is not None:
            feeds = {n: perturbed[n] for n in self.starts}
            feeds.update({n: reference[n] for n in self.others})
            got.update(self.interpreter.run(feeds))
        return judge.cosine(got, reference)


def build_downstream(original: Module, layer: Layer) -> Downstream:
    """The downstream graph of ``layer``'s outputs in the F32 module."""
    nodes = layer_nodes(original, layer)
    starts = list(nodes[-1].outputs)
    cut = downstream_module(original, starts)
    names = tuple(v.name for v in starts)
    if cut is None:
        return Downstream(None, names, ())
    others = tuple(v.name for v in cut.graph.inputs[len(starts) :])
    return Downstream(Interpreter(cut), names, others)
