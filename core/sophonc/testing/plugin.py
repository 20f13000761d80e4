"""The pytest plugin of the conformance suite: the chip under test, its compiled cases.

A chip's test folder names itself with a ``chip_name`` fixture (its entry-point
name, or its :class:`~sophonc.api.Backend` subclass before it is installed) and
loads this plugin (``pytest_plugins = ["sophonc.testing.plugin"]``); the tests
come from ``from sophonc.testing.suite import *``.

Tests are generated only for what the chip's :class:`~sophonc.api.TargetSpec`
declares, as SQLAlchemy's requirements do, but without skipping: a test whose
capability the chip lacks is never generated (it is dropped at collection and
only counted in the terminal summary). That needs the target while collecting,
before fixtures run, so ``chip_name`` must be a fixture without arguments
returning a constant: the plugin calls it once at collection.

Parameters the suite's tests take, and what each ranges over:

* ``op_case``: every :data:`sophonc.testing.cases.CASES`;
* ``float_mode``: the declared float precisions (F32, F16, BF16);
* ``int8_mode``: INT8 with each declared quantization scheme;
* ``any_mode``: all of the above;
* ``symmetric_int8``: INT8 symmetric, when declared (the hand-computed cases);
* ``weight_scales``: the pointwise-conv weight layouts the chip can represent
  exactly (one scale for all channels; per channel when declared).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pytest

from sophonc.api import Backend, DeployOptions, TargetSpec
from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.calibration.table import CalibrationTable
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc.plugins.registry import load_backend, load_quantizer
from sophonc.quantize.precision import mark_all
from sophonc.testing.cases import (
    CASES,
    PER_CHANNEL_SCALES,
    UNIFORM_SCALES,
    F32Array,
    Feeds,
    OpCase,
    case_ids,
)

#: Float precisions the suite drives, in the order tests are generated.
FLOAT_PRECISIONS = ("F32", "F16", "BF16")
#: Quantization schemes the suite drives (each needs its quantizer plugin installed).
INT8_SCHEMES = ("symmetric", "asymmetric")
#: Marks a test the chip's target gives no parameter to; such tests are dropped.
NOT_DECLARED = "sophon_not_declared"
_DROPPED = pytest.StashKey[list[str]]()
#: The suite's parameters, in the order they are applied (``op_case`` innermost).
_PARAMETER_NAMES = (
    "float_mode",
    "int8_mode",
    "any_mode",
    "symmetric_int8",
    "weight_scales",
    "op_case",
)


class Mode(NamedTuple):
    """A deploy mode: a precision, and for INT8 the quantization scheme."""

    precision: str
    scheme: str | None = None

    def __str__(self) -> str:
        return self.precision if self.scheme is None else f"{self.precision}-{self.scheme}"

    @property
    def options(self) -> DeployOptions:
        """The deploy options of this mode."""
        return DeployOptions(quantize=self.precision, asymmetric=self.scheme == "asymmetric")


@dataclass
class CompiledCase:
    """One case compiled for one mode, with what the checks compare against.

    ``module`` is the top-level module as the backend received it (precisions and
    quantized types recorded); ``reference`` holds its F32 outputs from the
    reference interpreter on ``feeds``.
    """

    case: OpCase
    mode: Mode
    module: Module
    feeds: Feeds
    reference: dict[str, F32Array]
    program: Module
    container: bytes = field(default=b"", repr=False)


class ConformanceRun:
    """Compiles cases for one backend the way ``model_deploy`` does, memoized.

    INT8 calibrates with the ``max`` method on the case's own inputs, then
    quantizes with the scheme's quantizer plugin; float modes record the
    precision on every node. Compiled cases are shared by the tests of a
    session: tests must not modify them.
    """

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._compiled: dict[tuple[str, Mode], CompiledCase] = {}

    @property
    def target(self) -> TargetSpec:
        """The chip's declared facts."""
        return self.backend.target

    def compiled(self, case: OpCase, mode: Mode) -> CompiledCase:
        """``case`` compiled for ``mode``, with its container (once per session)."""
        key = (case.id, mode)
        if key not in self._compiled:
            compiled = self.compile(case, mode)
            compiled.container = self.backend.codegen(compiled.program, mode.options)
            self._compiled[key] = compiled
        return self._compiled[key]

    def compile(self, case: OpCase, mode: Mode) -> CompiledCase:
        """``case`` compiled for ``mode`` from scratch (no container)."""
        module, feeds = case.instantiate()
        reference = {k: v.astype(np.float32) for k, v in Interpreter(module).run(feeds).items()}
        if mode.precision == "INT8":
            table, _ = run_calibration(
                module, [feeds], 1, CalibrationSettings(method="max", tune_num=0)
            )
            self.quantize(module, table, mode)
        else:
            mark_all(module, mode.precision)
        program = self.backend.lower(module, mode.options)
        return CompiledCase(case, mode, module, feeds, reference, program)

    def quantize(self, module: Module, table: CalibrationTable, mode: Mode) -> Module:
        """Record precisions and quantized types from ``table`` (INT8 modes)."""
        assert mode.scheme is not None, "only INT8 modes are quantized"
        return load_quantizer(mode.scheme).quantize(module, table, self.target, {})


# ------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def backend_under_test(chip_name: str | type[Backend]) -> Backend:
    """The backend of ``chip_name``, loaded through the plugin registry."""
    return load_backend(chip_name)


@pytest.fixture(scope="session")
def target_spec(backend_under_test: Backend) -> TargetSpec:
    """The facts the chip declares."""
    return backend_under_test.target


@pytest.fixture(scope="session")
def conformance(backend_under_test: Backend) -> ConformanceRun:
    """The session's compiler of cases for the chip under test."""
    return ConformanceRun(backend_under_test)


# ------------------------------------------------------------------ parametrization
def float_modes(target: TargetSpec) -> list[Mode]:
    """The float modes the chip declares."""
    return [Mode(p) for p in FLOAT_PRECISIONS if p in target.precisions]


def int8_modes(target: TargetSpec) -> list[Mode]:
    """INT8 with each quantization scheme the chip declares (none without INT8)."""
    if "INT8" not in target.precisions:
        return []
    return [Mode("INT8", s) for s in INT8_SCHEMES if s in target.quant_schemes]


def _parameters(target: TargetSpec) -> dict[str, list[object]]:
    symmetric = [m for m in int8_modes(target) if m.scheme == "symmetric"]
    layouts: list[object] = [UNIFORM_SCALES]
    if target.per_channel_weights:
        layouts.append(PER_CHANNEL_SCALES)
    return {
        "op_case": list(CASES),
        "float_mode": list(float_modes(target)),
        "int8_mode": list(int8_modes(target)),
        "any_mode": [*float_modes(target), *int8_modes(target)],
        "symmetric_int8": list(symmetric),
        "weight_scales": layouts if symmetric else [],
    }


def _chip_at_collection(metafunc: pytest.Metafunc) -> str | type[Backend]:
    """The value of the ``chip_name`` fixture visible to this test, by calling it.

    pytest resolves fixtures only when tests run; the fixture definitions of a
    test are known at collection through ``Metafunc._arg2fixturedefs``, the one
    non-public attribute used here.
    """
    definitions = getattr(metafunc, "_arg2fixturedefs", {}).get("chip_name")
    if not definitions:
        raise pytest.UsageError(
            "the sophonc conformance suite needs a 'chip_name' fixture: define it in the "
            "conftest.py of your tests (returning your chip's entry-point name)"
        )
    definition = definitions[-1]
    if definition.argnames:
        raise pytest.UsageError(
            f"the 'chip_name' fixture must take no arguments (it takes "
            f"{', '.join(definition.argnames)}): the suite reads it while collecting"
        )
    chip: str | type[Backend] = definition.func()
    return chip


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests the chip's target does not declare."""
    config.addinivalue_line("markers", f"{NOT_DECLARED}: capability the chip lacks (dropped)")
    config.stash[_DROPPED] = []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize the suite's tests over what the chip declares."""
    wanted = [name for name in _PARAMETER_NAMES if name in metafunc.fixturenames]
    if not wanted or "chip_name" not in metafunc.fixturenames:
        return
    target = load_backend(_chip_at_collection(metafunc)).target
    parameters = _parameters(target)
    for name in wanted:
        values = parameters[name]
        if not values:
            lacking = pytest.param(
                None, id="not-declared", marks=getattr(pytest.mark, NOT_DECLARED)
            )
            metafunc.parametrize(name, [lacking])
        elif name == "op_case":
            metafunc.parametrize(name, values, ids=case_ids())
        else:
            metafunc.parametrize(name, values, ids=[str(v) for v in values])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the tests of capabilities the chip does not declare."""
    kept = [item for item in items if item.get_closest_marker(NOT_DECLARED) is None]
    dropped = [item.nodeid for item in items if item.get_closest_marker(NOT_DECLARED) is not None]
    if dropped:
        config.stash.setdefault(_DROPPED, []).extend(dropped)
        items[:] = kept


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Name the suite's tests not generated because the chip lacks their capability."""
    dropped = config.stash.get(_DROPPED, [])
    if dropped:
        names = sorted({nodeid.split("[")[0].rsplit("::", 1)[-1] for nodeid in dropped})
        terminalreporter.write_line(
            f"sophonc conformance: not generated (capability not declared by the chip's "
            f"TargetSpec): {', '.join(names)}"
        )
