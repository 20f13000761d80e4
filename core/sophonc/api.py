"""The stable surface plugins implement: Frontend, Quantizer and Backend.

Every plugin class declares ``api_version``; the registry refuses a plugin built
for another :data:`API_VERSION` with a message naming it, so a third-party chip
that lags behind core fails clearly instead of misbehaving.

A backend states what its chip can do as data (:class:`TargetSpec`): quantizers,
the command line and the conformance suite read those facts, so nothing outside
the backend ever branches on a chip's name.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np
import numpy.typing as npt

from sophonc.ir.module import Module
from sophonc.ir.value import Value

if TYPE_CHECKING:
    from sophonc.calibration.table import CalibrationTable

API_VERSION = 1

Arrays = dict[str, npt.NDArray[np.generic]]


@dataclass(frozen=True)
class FrontendOptions:
    """What every frontend needs to import a model.

    ``input_shapes`` fixes dynamic dimensions (one shape per model input, in input
    order, or empty to keep the model's). ``output_names`` cuts the graph at those
    framework tensors (empty = the model's outputs). ``model_data`` is the second
    file some formats need (a Caffe ``.caffemodel``).
    """

    model_name: str = "model"
    input_shapes: Sequence[Sequence[int]] = ()
    output_names: Sequence[str] = ()
    model_data: Path | None = None
    extra: Mapping[str, object] = field(default_factory=dict)


class Frontend(abc.ABC):
    """Turns a framework model file into a top-level F32 :class:`Module`.

    Subclasses set ``name`` (the entry-point name users type, e.g. ``onnx``) and
    ``suffixes`` (file suffixes it claims, used when no ``detect`` hook answers).
    The constructor must be cheap and import no framework; import it in ``load``.
    """

    api_version: ClassVar[int] = API_VERSION
    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]] = ()

    @abc.abstractmethod
    def load(self, path: Path, options: FrontendOptions) -> Module:
        """Import ``path``; raise ``ModelLoadError``/``UnsupportedOpError`` on bad input."""

    def reference_outputs(
        self,
        path: Path,
        options: FrontendOptions,
        inputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        all_tensors: bool = False,
    ) -> dict[str, npt.NDArray[np.generic]]:
        """Run the original model in its own framework runtime.

        Keys follow the IR's tensor names (``<framework name>_<OpType>``) so the
        result compares directly with the interpreter's dump. With ``all_tensors``
        every intermediate tensor the runtime can expose is returned, else only the
        model outputs. Frontends without a runtime raise ``SophonError``.
        """
        from sophonc.errors import SophonError

        raise SophonError(f"the {self.name} frontend has no reference runtime")


@dataclass(frozen=True)
class TargetSpec:
    """The facts of one chip that code outside its backend may act on.

    Attributes:
        chip: the chip's name as users type it (``bm1684x``).
        precisions: the ``--quantize`` modes the chip runs (``F32``, ``F16``, …).
        quant_schemes: INT8 schemes it supports (``symmetric``, ``asymmetric``).
        unsigned_activations: whether a non-negative activation is stored as u8
            (scale ``th/255``) rather than always signed i8 (``th/127``).
        per_channel_weights: whether Conv weights get one scale per output channel.
        mixed_fp_types: float modes a mixed-precision table may use, the default
            (``--fp_type auto``) first.
        int8_float_ops: op types the chip keeps in float in INT8 mode, with the
            precision they run in (e.g. ``LayerNormalization: F16``).
        container_suffix: the file suffix of its compiled models.
        container_magic: the first bytes of such a file (so ``sophon run`` can
            tell which backend reads it without trusting the suffix).
    """

    chip: str
    precisions: frozenset[str]
    quant_schemes: frozenset[str] = frozenset({"symmetric"})
    unsigned_activations: bool = True
    per_channel_weights: bool = True
    mixed_fp_types: tuple[str, ...] = ("F32",)
    int8_float_ops: Mapping[str, str] = field(default_factory=dict)
    container_suffix: str = ".bmodel"
    container_magic: bytes = b""


@dataclass(frozen=True)
class DeployOptions:
    """What lowering and codegen of one model need besides the module."""

    quantize: str = "F32"
    asymmetric: bool = False
    quant_input: bool = False
    quant_output: bool = False
    model_name: str = "model"


class Quantizer(abc.ABC):
    """Turns a calibrated top-level module into a quantized one for a target.

    The result is the same graph with a quantized type (``Value.quant``) on every
    tensor that runs in integers and a ``precision`` decided for every node, from
    the calibration table, the per-layer ``overrides`` (a qtable: node name ->
    mode) and the target's rules. Nothing chip-specific is decided here beyond
    what ``target`` states.
    """

    api_version: ClassVar[int] = API_VERSION
    name: ClassVar[str]

    @abc.abstractmethod
    def quantize(
        self,
        module: Module,
        table: CalibrationTable,
        target: TargetSpec,
        overrides: Mapping[str, str],
    ) -> Module:
        """Return the quantized module (``module`` itself may be modified)."""


class Backend(abc.ABC):
    """One chip: lowering, codegen into its container, and a simulator for it.

    ``lower`` turns a quantized (or float) top-level module into the chip's own
    program, an IR :class:`Module` of chip ops; ``run_program`` interprets it;
    ``codegen`` encodes it into the container bytes; ``simulate`` executes
    container bytes with the chip's arithmetic. The constructor must be cheap.
    """

    api_version: ClassVar[int] = API_VERSION
    name: ClassVar[str]
    target: ClassVar[TargetSpec]

    @abc.abstractmethod
    def lower(self, module: Module, options: DeployOptions) -> Module:
        """The chip program of ``module`` (quantized top IR or float top IR)."""

    @abc.abstractmethod
    def run_program(
        self, program: Module, inputs: Mapping[str, npt.ArrayLike], *, dump_all: bool = False
    ) -> Arrays:
        """Interpret a lowered program with the chip's arithmetic.

        TPU-MLIR's ``tpu.mlir`` interpreter: results keyed by value name, in f32
        (quantized values dequantized), to compare with the top-level module.
        """

    @abc.abstractmethod
    def codegen(self, program: Module, options: DeployOptions) -> bytes:
        """The container bytes of a lowered program (deterministic)."""

    @abc.abstractmethod
    def model_inputs(self, model: bytes) -> Sequence[Value]:
        """The net inputs of container bytes: names, types and the preprocessing
        attributes ``sophon transform`` recorded (so pictures can be fed)."""

    @abc.abstractmethod
    def simulate(
        self, model: bytes, inputs: Mapping[str, npt.ArrayLike], *, dump_all: bool = False
    ) -> Arrays:
        """Run container bytes on float inputs; results dequantized to f32.

        Must agree bit for bit with :meth:`run_program` on the program the bytes
        were generated from.
        """
