"""Small seeded models for the search tests, built with onnx.helper.

``hostile``: three convolutions; the last one's first output channel is 300
times larger than the others and a Split hands the two ranges to two outputs
(the way a detector head joins boxes and scores). One int8 scale cannot serve
both, so that convolution is the layer the search must find.
``benign``: the same network without the outlier channel.
Each model comes transformed (imported and canonicalized), saved as IR text
and weights, with calibration samples, held-back samples and a table.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sophonc.api import FrontendOptions
from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.ir.text import load_module, save_module
from sophonc.npzfile import write_npz
from sophonc.passes import canonicalize
from sophonc_frontend_onnx.frontend import OnnxFrontend

SEED = 1234
SHAPE = (1, 3, 16, 16)
#: How much larger the hostile channel is than the others.
OUTLIER_GAIN = 300.0
SAMPLES = 12


def build_onnx(path: Path, *, outlier: float, seed: int = SEED) -> Path:
    """x → conv a (relu) → conv b (relu) → conv h → Split → y_big, y_small."""
    rng = np.random.default_rng(seed)
    f = np.float32

    def weight(cout: int, cin: int, k: int) -> np.ndarray:
        return rng.normal(0, 1.4 / np.sqrt(cin * k * k), (cout, cin, k, k)).astype(f)

    wh = weight(6, 8, 1)
    wh[0] *= outlier
    inits = {
        "wa": weight(8, 3, 3), "ba": rng.normal(0, 0.1, 8).astype(f),
        "wb": weight(8, 8, 3), "bb": rng.normal(0, 0.1, 8).astype(f),
        "wh": wh, "bh": rng.normal(0, 0.1, 6).astype(f),
        "split": np.array([1, 5], np.int64),
    }  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["x", "wa", "ba"], ["a"], pads=[1, 1, 1, 1], name="conv_a"),
        helper.make_node("Relu", ["a"], ["ra"], name="relu_a"),
        helper.make_node("Conv", ["ra", "wb", "bb"], ["b"], pads=[1, 1, 1, 1], name="conv_b"),
        helper.make_node("Relu", ["b"], ["rb"], name="relu_b"),
        helper.make_node("Conv", ["rb", "wh", "bh"], ["h"], name="conv_h"),
        helper.make_node("Split", ["h", "split"], ["y_big", "y_small"], axis=1, name="split"),
    ]
    graph = helper.make_graph(
        nodes, "mixed_test",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(SHAPE))],
        [helper.make_tensor_value_info("y_big", TensorProto.FLOAT, None),
         helper.make_tensor_value_info("y_small", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def write_samples(folder: Path, count: int, seed: int) -> Path:
    """``count`` npz inputs of the model, seeded."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(count):
        write_npz(folder / f"s{i:02d}.npz", {"x": rng.normal(size=SHAPE).astype(np.float32)})
    return folder


def prepare(folder: Path, *, outlier: float) -> Path:
    """The transformed model ``m.mlir``, ``samples/`` and the table ``m_cali_table``."""
    folder.mkdir(parents=True, exist_ok=True)
    onnx_path = build_onnx(folder / "m.onnx", outlier=outlier)
    module = canonicalize(OnnxFrontend().load(onnx_path, FrontendOptions(model_name="m")))
    save_module(module, folder / "m.mlir", folder / "m_top_f32_all_weight.npz")
    samples = write_samples(folder / "samples", SAMPLES, SEED + 1)
    module = load_module(folder / "m.mlir")
    inputs = [dict(np.load(p)) for p in sorted(samples.glob("*.npz"))[:6]]
    table, _ = run_calibration(module, inputs, len(inputs), CalibrationSettings("kl", 2048, 0))
    table.write(folder / "m_cali_table", mlir_file="m.mlir", method="kl", histogram_bins=2048,
                sample_count=len(inputs), tune_count=0, version="test")  # fmt: skip
    return folder


@pytest.fixture(scope="session")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A prepared model whose last conv has one outlier channel."""
    return prepare(tmp_path_factory.mktemp("hostile"), outlier=OUTLIER_GAIN)


@pytest.fixture(scope="session")
def benign(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same model without the outlier channel."""
    return prepare(tmp_path_factory.mktemp("benign"), outlier=1.0)


@pytest.fixture
def in_folder(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], Path]:
    """Make a prepared folder the working directory."""

    def enter(folder: Path) -> Path:
        monkeypatch.chdir(folder)
        return folder

    return enter
