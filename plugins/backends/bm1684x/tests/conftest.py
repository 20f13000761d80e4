"""What the BM1684X backend tests share: tiny seeded models and the deploy flow.

Models are built two ways, both seeded: with :mod:`sophonc.ir` directly and with
``onnx.helper`` imported through the ONNX frontend. The flow is TPU-MLIR's
``model_deploy`` in miniature: canonicalize → calibrate (``max``, or a table
written by hand) → quantize (symmetric) or mark a float mode → lower.

Tests run in importlib mode, so this module cannot be imported by them: the
builders are handed out as fixtures (``models`` and ``flow``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.calibration.table import CalibrationTable
from sophonc.interp import Interpreter
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.passes import canonicalize
from sophonc.quantize.precision import mark_all
from sophonc_backend_bm1684x.lowering.lower import lower_module
from sophonc_backend_bm1684x.target import BM1684X_TARGET

Feeds = dict[str, npt.NDArray[np.float32]]
ModelFn = Callable[[int], Module]


def _normal(rng: np.random.Generator, shape: Sequence[int], std: float) -> npt.NDArray[np.float32]:
    return rng.normal(0.0, std, tuple(shape)).astype(np.float32)


# ----------------------------------------------------------------------------- models
def conv_net(seed: int) -> Module:
    """x[1,3,8,8] → Conv3x3+ReLU → Conv1x1+Clip(0,6) → Add → x·Sigmoid(x) → MaxPool.

    Outputs: the pooled map and the Add (which the SiLU also reads), so one graph
    output is an intermediate with a later reader.
    """
    rng = np.random.default_rng(seed)
    x = Value("x", TensorType("f32", (1, 3, 8, 8)))
    w1 = Value.weight("w1", _normal(rng, (8, 3, 3, 3), 0.4))
    b1 = Value.weight("b1", _normal(rng, (8,), 0.1))
    w2 = Value.weight("w2", _normal(rng, (8, 8, 1, 1), 0.4))
    b2 = Value.weight("b2", _normal(rng, (8,), 0.1))
    conv1 = Node("Conv", [x, w1, b1], ["c1_Conv"], {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]})
    relu = Node("Relu", [conv1.output], ["r1_Relu"])
    conv2 = Node("Conv", [relu.output, w2, b2], ["c2_Conv"], {"kernel_shape": [1, 1]})
    clip = Node("Clip", [conv2.output], ["r2_Clip"], {"min": 0.0, "max": 6.0})
    add = Node("Add", [relu.output, clip.output], ["a_Add"])
    sig = Node("Sigmoid", [add.output], ["s_Sigmoid"])
    mul = Node("Mul", [add.output, sig.output], ["m_Mul"])
    pool = Node("MaxPool", [mul.output], ["p_MaxPool"], {"kernel_shape": [2, 2], "strides": [2, 2]})
    nodes = [conv1, relu, conv2, clip, add, sig, mul, pool]
    graph = Graph("conv_net", [x], [pool.output, add.output], nodes)
    return canonicalize(Module("conv_net", graph))


def filter_net(seed: int) -> Module:
    """A Conv whose filter is the second graph input, then an Add of a weight."""
    rng = np.random.default_rng(seed)
    x = Value("x", TensorType("f32", (1, 2, 5, 5)))
    k = Value("k", TensorType("f32", (3, 2, 3, 3)))
    conv = Node("Conv", [x, k], ["y_Conv"], {"kernel_shape": [3, 3]})
    c = Value.weight("c", _normal(rng, (1, 3, 1, 1), 1.0))
    add = Node("Add", [conv.output, c], ["z_Add"])
    graph = Graph("filter_net", [x, k], [add.output], [conv, add])
    return canonicalize(Module("filter_net", graph))


def deconv_net(seed: int) -> Module:
    """A grouped, strided ConvTranspose; ``2 - t`` and ``· 0.5`` with constants; a
    nearest Resize of the input; a Concat whose inputs need re-quantizing."""
    rng = np.random.default_rng(seed)
    x = Value("x", TensorType("f32", (1, 4, 5, 5)))
    w = Value.weight("w", _normal(rng, (4, 3, 3, 3), 0.4))
    b = Value.weight("b", _normal(rng, (6,), 0.1))
    attrs = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1], "group": 2,
             "output_padding": [1, 1]}  # fmt: skip
    deconv = Node("ConvTranspose", [x, w, b], ["t_ConvTranspose"], attrs)
    two = Value.weight("two", np.array(2.0, np.float32))
    sub = Node("Sub", [two, deconv.output], ["s_Sub"])
    half = Value.weight("half", np.array(0.5, np.float32))
    mul = Node("Mul", [sub.output, half], ["h_Mul"])
    up = Node("Resize", [x], ["u_Resize"], {"mode": "nearest", "sizes": [1, 4, 10, 10]})
    cat = Node("Concat", [mul.output, deconv.output, up.output], ["k_Concat"], {"axis": 1})
    nodes = [deconv, sub, mul, up, cat]
    return canonicalize(Module("deconv_net", Graph("deconv_net", [x], [cat.output], nodes)))


def onnx_net(folder: Path, seed: int) -> Module:
    """An ONNX model through the ONNX frontend: grouped Conv+ReLU, Sub of a per-channel
    constant, Mul of two activations, Pad with a nonzero fill, MaxPool with padding,
    a Tanh branch, Concat, Transpose and Reshape."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from sophonc.api import FrontendOptions
    from sophonc_frontend_onnx.frontend import OnnxFrontend

    rng = np.random.default_rng(seed)
    inits = {
        "w": _normal(rng, (6, 2, 3, 3), 0.4),
        "b": _normal(rng, (6,), 0.1),
        "k": _normal(rng, (1, 6, 1, 1), 0.5),
        "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64),
        "fill": np.array(0.25, dtype=np.float32),
        "shape": np.array([1, -1], dtype=np.int64),
    }
    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["conv"], kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1], group=2),
        helper.make_node("Relu", ["conv"], ["relu"]),
        helper.make_node("Sub", ["relu", "k"], ["sub"]),
        helper.make_node("Mul", ["sub", "relu"], ["mul"]),
        helper.make_node("Pad", ["mul", "pads", "fill"], ["pad"], mode="constant"),
        helper.make_node("MaxPool", ["pad"], ["pool"], kernel_shape=[3, 3], strides=[2, 2],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Tanh", ["pool"], ["tanh"]),
        helper.make_node("Concat", ["pool", "tanh"], ["cat"], axis=1),
        helper.make_node("Transpose", ["cat"], ["perm"], perm=[0, 2, 3, 1]),
        helper.make_node("Reshape", ["perm", "shape"], ["out"]),
    ]  # fmt: skip
    graph = helper.make_graph(
        nodes,
        "onnx_net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
        initializer=[numpy_helper.from_array(a, n) for n, a in inits.items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = min(onnx.IR_VERSION, 10)
    path = folder / f"onnx_net_{seed}.onnx"
    onnx.save(model, path)
    module = OnnxFrontend().load(path, FrontendOptions(model_name="onnx_net"))
    return canonicalize(module)


@dataclass(frozen=True)
class Models:
    """The model builders, each ``seed -> canonical top-level module``."""

    conv_net: ModelFn
    filter_net: ModelFn
    deconv_net: ModelFn
    onnx_net: ModelFn


@pytest.fixture
def models(tmp_path: Path) -> Models:
    """Seeded model builders (the ONNX one saves its file under ``tmp_path``)."""
    return Models(conv_net, filter_net, deconv_net, lambda seed: onnx_net(tmp_path, seed))


# ------------------------------------------------------------------------------- flow
def samples_for(module: Module, seed: int, count: int) -> list[Feeds]:
    """``count`` seeded standard-normal inputs for every graph input of ``module``."""
    rng = np.random.default_rng(seed)
    return [{v.name: _normal(rng, v.shape, 1.0) for v in module.graph.inputs} for _ in range(count)]


def calibrate(module: Module, samples: Sequence[Mapping[str, npt.ArrayLike]]) -> CalibrationTable:
    """A ``max`` calibration table of ``module`` over ``samples``."""
    table, _ = run_calibration(module, samples, len(samples), CalibrationSettings(method="max"))
    return table


def lower(module: Module, mode: str, table: CalibrationTable | None = None) -> Module:
    """Annotate ``module`` for ``mode`` (quantize with ``table`` for INT8) and lower it."""
    if mode == "INT8":
        from sophonc_quant_symmetric.quantizer import SymmetricQuantizer

        assert table is not None, "INT8 needs a calibration table"
        SymmetricQuantizer().quantize(module, table, BM1684X_TARGET, {})
    else:
        mark_all(module, mode)
    return lower_module(module, mode)


def reference(
    module: Module, feeds: Mapping[str, npt.ArrayLike]
) -> dict[str, npt.NDArray[np.generic]]:
    """Every tensor of the F32 top-level module on ``feeds``."""
    return Interpreter(module).run(feeds, dump_all=True)


@dataclass(frozen=True)
class Flow:
    """The deploy steps, as plain functions."""

    samples: Callable[[Module, int, int], list[Feeds]]
    calibrate: Callable[[Module, Sequence[Mapping[str, npt.ArrayLike]]], CalibrationTable]
    lower: Callable[..., Module]
    reference: Callable[[Module, Mapping[str, npt.ArrayLike]], dict[str, npt.NDArray[np.generic]]]

    def program(self, build: ModelFn, seed: int, mode: str, calib_samples: int = 8) -> Module:
        """``build(seed)`` lowered for ``mode`` (INT8 calibrated on seeded samples)."""
        module = build(seed)
        table = None
        if mode == "INT8":
            table = self.calibrate(module, self.samples(module, seed + 1000, calib_samples))
        return self.lower(module, mode, table)


@pytest.fixture
def flow() -> Flow:
    """The deploy flow (see :class:`Flow`)."""
    return Flow(samples_for, calibrate, lower, reference)


# -------------------------------------------------------------- conformance suite
@pytest.fixture(scope="session")
def chip_name() -> str:
    """The chip ``sophonc.testing``'s conformance suite checks (test_conformance.py)."""
    return "bm1684x"
