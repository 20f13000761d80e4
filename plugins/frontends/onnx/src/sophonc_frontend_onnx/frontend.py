"""The ``onnx`` frontend: the class the ``sophon.frontends`` entry point names.

Importing this module is cheap: onnx and onnxruntime are imported inside the
methods that need them, so ``sophon plugins`` and format detection stay fast.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from sophonc.api import Frontend, FrontendOptions
from sophonc.ir.module import Module


class OnnxFrontend(Frontend):
    """ONNX models (opset 7 to the installed onnx's newest) into the top-level IR."""

    name: ClassVar[str] = "onnx"
    suffixes: ClassVar[tuple[str, ...]] = (".onnx",)

    def load(self, path: Path, options: FrontendOptions) -> Module:
        """Read and convert ``path``.

        Raises ``ModelLoadError`` for unreadable files, ``ShapeError`` for input
        shapes that do not fit, ``UnsupportedOpError`` for ops without a converter.
        """
        from sophonc_frontend_onnx.importer import import_model
        from sophonc_frontend_onnx.loader import load_model_proto

        model = load_model_proto(Path(path))
        return import_model(model, options)

    def reference_outputs(
        self,
        path: Path,
        options: FrontendOptions,
        inputs: Mapping[str, npt.NDArray[np.generic]],
        *,
        all_tensors: bool = False,
    ) -> dict[str, npt.NDArray[np.generic]]:
        """Run the model in onnxruntime; keys are IR names (``<tensor>_<OpType>``)."""
        from sophonc_frontend_onnx.reference import run_reference

        return run_reference(Path(path), options, inputs, all_tensors=all_tensors)
