"""Fixtures of the asymmetric quantizer's command-line tests: a tiny ONNX model.

Tests run in importlib mode, so builders are handed out as fixtures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SEED = 23


def build_skewed_onnx(path: Path) -> Path:
    """x[1,3,8,8] → Conv 3x3 (pad 1) → Relu → AveragePool 3x3 (pad 1) → Conv 1x1 with a
    +1 bias (an output skewed to the positive side) → y."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(SEED)
    inits = {
        "w1": rng.normal(0, 0.4, (4, 3, 3, 3)).astype(np.float32),
        "b1": rng.normal(0, 0.1, (4,)).astype(np.float32),
        "w2": rng.normal(0, 0.3, (2, 4, 1, 1)).astype(np.float32),
        "b2": np.full((2,), 1.0, np.float32),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1], name="c"),
        helper.make_node("Relu", ["c"], ["r"], name="r"),
        helper.make_node("AveragePool", ["r"], ["p"], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                         name="p"),
        helper.make_node("Conv", ["p", "w2", "b2"], ["y"], name="y"),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "skewed",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(a, n) for n, a in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


@pytest.fixture
def skewed_onnx(tmp_path: Path) -> Path:
    """The tiny model, in a folder of its own."""
    folder = tmp_path / "models"
    folder.mkdir()
    return build_skewed_onnx(folder / "skewed.onnx")


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, made the current directory."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder
