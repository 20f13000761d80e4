"""Tiny ONNX models for the command-line tests (built with onnx.helper, seeded)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

SEED = 7


def build_tiny(path: Path, *, custom_op: bool = False, dynamic: bool = False) -> Path:
    """x[1,3,8,8] → Conv(3→4, 3x3) → Relu → MaxPool 2x2 → y (or a custom-domain op)."""
    rng = np.random.default_rng(SEED)
    w = numpy_helper.from_array(rng.normal(0, 0.5, (4, 3, 3, 3)).astype(np.float32), "conv.w")
    b = numpy_helper.from_array(rng.normal(0, 0.1, (4,)).astype(np.float32), "conv.b")
    nodes = [
        helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["c"], pads=[1, 1, 1, 1], name="c"),
        helper.make_node("Relu", ["c"], ["r"], name="r"),
    ]
    if custom_op:
        nodes.append(helper.make_node("Frobnicate", ["r"], ["y"], domain="com.acme", name="f"))
    else:
        nodes.append(helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2]))
    in_shape: list[int | str] = ["N", 3, "H", "W"] if dynamic else [1, 3, 8, 8]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [w, b],
    )
    opsets = [helper.make_opsetid("", 13)]
    if custom_op:
        opsets.append(helper.make_opsetid("com.acme", 1))
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def tiny_onnx(tmp_path: Path) -> Path:
    """A valid 4-node model in its own folder."""
    folder = tmp_path / "models"
    folder.mkdir()
    return build_tiny(folder / "tiny.onnx")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, made the current directory."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def make_tiny() -> Callable[..., Path]:
    """The tiny-model builder, for tests that need variants (custom op, dynamic dims)."""
    return build_tiny
