"""The stable surface plugins implement: Frontend, Quantizer and Backend.

Every plugin class declares ``api_version``; the registry refuses a plugin built
for another :data:`API_VERSION` with a message naming it, so a third-party chip
that lags behind core fails clearly instead of misbehaving.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from sophonc.ir.module import Module

API_VERSION = 1


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
        inputs: Mapping[str, npt.NDArray[np.float32]],
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
