"""The ``bm1684x`` backend: the class the ``sophon.backends`` entry point names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import numpy.typing as npt

from sophonc.api import Arrays, Backend, DeployOptions, TargetSpec
from sophonc.ir.module import Module
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.target import BM1684X_TARGET


class BM1684XBackend(Backend):
    """Sophgo BM1684X: F32, F16, BF16 and INT8 (symmetric and asymmetric).

    The compiled model is a real bmodel container whose command group holds
    sophonc's own encoding of the lowered program; it runs in this backend's
    simulator, not yet on the chip.
    """

    name: ClassVar[str] = "bm1684x"
    target: ClassVar[TargetSpec] = BM1684X_TARGET

    def lower(self, module: Module, options: DeployOptions) -> Module:
        """The BM1684X program of a (quantized) top-level module."""
        from sophonc_backend_bm1684x.lowering.lower import lower_module

        return lower_module(module, options.quantize)

    def run_program(
        self, program: Module, inputs: Mapping[str, npt.ArrayLike], *, dump_all: bool = False
    ) -> Arrays:
        """Interpret a lowered program with the chip's arithmetic (dequantized results)."""
        from sophonc_backend_bm1684x.program.executor import run_program

        return run_program(program, inputs, dump_all=dump_all)

    def codegen(self, program: Module, options: DeployOptions) -> bytes:
        """The bmodel bytes of a lowered program."""
        from sophonc_backend_bm1684x.codegen.container import build_bmodel

        return build_bmodel(program, options.model_name)

    def model_inputs(self, model: bytes) -> Sequence[Value]:
        """The net inputs recorded in bmodel bytes."""
        from sophonc_backend_bm1684x.codegen.container import read_program

        return list(read_program(model, "<bmodel>").program.graph.inputs)

    def simulate(
        self, model: bytes, inputs: Mapping[str, npt.ArrayLike], *, dump_all: bool = False
    ) -> Arrays:
        """Run bmodel bytes in the simulator (dequantized results)."""
        from sophonc_backend_bm1684x.simulator import simulate

        return simulate(model, inputs, dump_all=dump_all)
