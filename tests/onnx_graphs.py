"""Small ONNX models written by tests, built one way.

Tests that need a real ONNX file (to import it, to run onnxruntime or the
official toolchain on it) describe its nodes and constants; this module makes
the graph with one float input ``x``, opset 13 unless told, and IR version 8
(what onnxruntime and TPU-MLIR's pinned onnxruntime both read). Floating-point
constants are stored as float32, other constants as they are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _tensor(name: str, value: Any) -> Any:
    data = np.asarray(value)
    if np.issubdtype(data.dtype, np.floating):
        data = data.astype(np.float32)
    return numpy_helper.from_array(data, name)


def single_input_model(
    nodes: Sequence[Any],
    inits: Mapping[str, Any],
    x_shape: Sequence[int | str],
    outputs: Mapping[str, Sequence[int] | None] | Sequence[str] = ("y",),
    opset: int = 13,
) -> Any:
    """The model of ``nodes`` reading input ``x``; ``outputs`` names the graph outputs
    (with their shapes when a mapping gives them)."""
    shapes = outputs if isinstance(outputs, Mapping) else dict.fromkeys(outputs)
    graph = helper.make_graph(
        list(nodes), "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x_shape))],
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, s) for k, s in shapes.items()],
        [_tensor(k, v) for k, v in inits.items()],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    return model


def save_single_input_model(
    path: Path,
    nodes: Sequence[Any],
    inits: Mapping[str, Any],
    x_shape: Sequence[int | str],
    outputs: Mapping[str, Sequence[int] | None] | Sequence[str] = ("y",),
) -> Path:
    """:func:`single_input_model` written to ``path``; returns ``path``."""
    onnx.save(single_input_model(nodes, inits, x_shape, outputs), str(path))
    return path
