"""``model_deploy`` as a function: top-level module → quantized → chip program →
container, validated stage by stage as TPU-MLIR does.

1. precisions and quantized types (a quantizer plugin for INT8, from the
   calibration table and the qtable; every node in the mode otherwise);
2. the backend lowers to its program (written as ``<prefix>_tpu.mlir``);
3. with a test input, the program's tensors are compared with the F32
   top-level module's (``--tolerance``);
4. the backend encodes the container; with a test input the simulator runs it
   and its outputs must equal the program's bit for bit (``--correctness`` is
   reported like TPU-MLIR's, and any difference at all is a sophonc bug).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sophonc.api import Arrays, Backend, DeployOptions
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.tpu_mlir_names import rewrite_aliases
from sophonc.compare import CompareReport, compare_arrays
from sophonc.errors import SophonError
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc.ir.shadows import shadows
from sophonc.quantize.precision import assign_precisions, mark_all

log = logging.getLogger(__name__)

#: ``--tolerance`` defaults (program vs F32 top), TPU-MLIR's.
DEFAULT_TOLERANCE = {"INT8": (0.90, 0.80), "F16": (0.99, 0.90), "BF16": (0.99, 0.90),
                     "F32": (0.99, 0.99)}  # fmt: skip
DEFAULT_CORRECTNESS = (0.99, 0.90)
QTABLE_CORRECTNESS = (0.98, 0.80)


@dataclass
class DeployRequest:
    """What ``sophon deploy`` was asked to do (parsed flags)."""

    quantize: str
    calibration_table: Path | None = None
    table: CalibrationTable | None = None
    quantize_table: Path | None = None
    asymmetric: bool = False
    tolerance: tuple[float, float] | None = None
    correctness: tuple[float, float] | None = None
    excepts: set[str] = field(default_factory=set)
    compare_all: bool = False


@dataclass
class DeployResult:
    """The pieces a run produced, for the caller to write and report."""

    program: Module
    bmodel: bytes
    tpu_report: CompareReport | None = None
    tpu_outputs: Arrays | None = None
    model_outputs: Arrays | None = None
    correctness_report: CompareReport | None = None


def file_prefix(model_name: str, chip: str, request: DeployRequest) -> str:
    """TPU-MLIR's ``<model>_<chip>_<mode>[_sym|_asym]`` prefix, lower case."""
    prefix = f"{model_name}_{chip}_{request.quantize}".lower()
    if request.quantize == "INT8":
        prefix += "_asym" if request.asymmetric else "_sym"
    return prefix


def check_request(backend: Backend, request: DeployRequest) -> None:
    """Refuse what the chip cannot do, in one line each."""
    target = backend.target
    mode = request.quantize
    if mode not in target.precisions:
        raise SophonError(
            f"{target.chip} does not support --quantize {mode}; it runs "
            f"{', '.join(sorted(target.precisions))}"
        )
    if request.asymmetric and mode == "INT8" and "asymmetric" not in target.quant_schemes:
        raise SophonError(
            f"{target.chip} does not support --asymmetric; it quantizes "
            f"{', '.join(sorted(target.quant_schemes))}"
        )
    if mode == "INT8" and request.calibration_table is None and request.table is None:
        raise SophonError(
            "--quantize INT8 needs --calibration_table; make one with 'sophon calibrate' "
            "(run_calibration)"
        )


def quantize_module(module: Module, backend: Backend, request: DeployRequest) -> Module:
    """Record precisions (and, for INT8, quantized types) on ``module``."""
    from sophonc.quantize.qtable import read_qtable

    overrides = read_qtable(request.quantize_table) if request.quantize_table else {}
    if request.quantize != "INT8":
        mark_all(module, request.quantize)
        if overrides:
            assign_precisions(module, backend.target, overrides, default=request.quantize)
        return module
    from sophonc.plugins.registry import load_quantizer

    table = request.table
    if table is None:
        assert request.calibration_table is not None
        table = CalibrationTable.read(request.calibration_table)
    values = [v for v in module.graph.values().values() if v.const is None]
    names = [v.name for v in values] + [s.name for v in values for s in shadows(v)]
    names += [alias for alias, _ in rewrite_aliases(module)]  # written for TPU-MLIR's graph
    table.check_against(names)
    quantizer = load_quantizer("asymmetric" if request.asymmetric else "symmetric")
    return quantizer.quantize(module, table, backend.target, overrides)


def _bit_exact(program_out: Mapping[str, np.ndarray], model_out: Mapping[str, np.ndarray]) -> None:
    for name, want in program_out.items():
        got = model_out.get(name)
        if got is None or got.shape != want.shape or not np.array_equal(got, want, equal_nan=True):
            raise SophonError(
                f"the simulator's '{name}' differs from the lowered program's; this is a bug "
                f"in sophonc's codegen or simulator: please report it with --debug output"
            )


def deploy(
    module: Module,
    backend: Backend,
    request: DeployRequest,
    inputs: Mapping[str, np.ndarray] | None,
    reference: Mapping[str, np.ndarray] | None,
    step: Callable[[str], None],
) -> DeployResult:
    """Run the deploy flow on ``module`` (see the module docstring).

    ``inputs`` enable validation; ``reference`` holds the F32 top-level tensors
    for them (computed here when None).
    """
    check_request(backend, request)
    options = DeployOptions(
        quantize=request.quantize, asymmetric=request.asymmetric, model_name=module.name
    )
    if inputs is not None and reference is None:
        step("running the F32 top-level model")
        reference = Interpreter(module).run(inputs, dump_all=True)
    step(
        f"quantizing for {request.quantize}"
        if request.quantize == "INT8"
        else "assigning precisions"
    )
    quantize_module(module, backend, request)
    step(f"lowering to {backend.name}")
    program = backend.lower(module, options)
    result = DeployResult(program=program, bmodel=b"")
    if inputs is not None and reference is not None:
        step("running the lowered program")
        result.tpu_outputs = backend.run_program(program, inputs, dump_all=True)
        tol = request.tolerance or DEFAULT_TOLERANCE[request.quantize]
        result.tpu_report = compare_arrays(
            result.tpu_outputs, reference, tol, excepts=request.excepts, compare_all=True
        )
    step(f"generating the {backend.target.container_suffix} container")
    result.bmodel = backend.codegen(program, options)
    if inputs is not None and result.tpu_outputs is not None:
        step("running the container in the simulator")
        model_out = backend.simulate(result.bmodel, inputs, dump_all=request.compare_all)
        result.model_outputs = model_out
        expected = {k: result.tpu_outputs[k] for k in model_out if k in result.tpu_outputs}
        _bit_exact(expected, model_out)
        default = QTABLE_CORRECTNESS if request.quantize_table else DEFAULT_CORRECTNESS
        result.correctness_report = compare_arrays(
            model_out, result.tpu_outputs, request.correctness or default,
            excepts=request.excepts, compare_all=True,
        )  # fmt: skip
    return result
