"""A small seeded conv net deployed asymmetric: accuracy against F32, against symmetric.

The net's input is skewed (mean 1.5, so about [-1.5, 4.5]): symmetric int8 must
cover ``[-4.5, 4.5]`` with 255 codes and wastes most of the negative half, while
a zero point spends all 256 codes on the observed range. The net passes through
every INT8 kernel that handles a zero point (Conv with padding, fused and table
ReLU, AveragePool with padding, SiLU table, Add, MaxPool, Concat requant,
GlobalAveragePool, MatMul). Deployed through :func:`sophonc.deploy.deploy`, which
also runs the container in the simulator and requires it to equal the lowered
program bit for bit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.compare import cosine_similarity
from sophonc.deploy import DeployRequest, DeployResult, deploy
from sophonc.interp import Interpreter
from sophonc.ir import Graph, Module, Node, TensorType, Value
from sophonc.passes import canonicalize
from sophonc.plugins.registry import load_backend

F32Array = npt.NDArray[np.float32]
SEED = 5


def skewed_conv_net(seed: int) -> Module:
    """x[1,3,16,16] → Conv3x3 → Relu → {AveragePool 3x3 pad 1, Conv1x1 → SiLU} → Add →
    MaxPool → Conv3x3 ‖ MaxPool(x) → Concat → Conv3x3/2 + Relu → GAP → MatMul."""
    rng = np.random.default_rng(seed)
    made: list[Node] = []

    def weight(name: str, shape: tuple[int, ...], std: float) -> Value:
        return Value.weight(name, rng.normal(0.0, std, shape).astype(np.float32))

    def node(op: str, inputs: list[Value], name: str, **attrs: object) -> Value:
        made.append(Node(op, inputs, [name], attrs))
        return made[-1].output

    k3 = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    x = Value("x", TensorType("f32", (1, 3, 16, 16)))
    c1 = node("Conv", [x, weight("w1", (8, 3, 3, 3), 0.3), weight("b1", (8,), 0.1)], "c1_Conv",
              **k3)  # fmt: skip
    r1 = node("Relu", [c1], "r1_Relu")
    ap = node("AveragePool", [r1], "ap_AveragePool", **k3)
    c2 = node("Conv", [r1, weight("w2", (8, 8, 1, 1), 0.3), weight("b2", (8,), 0.1)], "c2_Conv",
              kernel_shape=[1, 1])  # fmt: skip
    sg = node("Sigmoid", [c2], "sg_Sigmoid")
    si = node("Mul", [c2, sg], "si_Mul")
    ad = node("Add", [si, ap], "ad_Add")
    mp = node("MaxPool", [ad], "mp_MaxPool", kernel_shape=[2, 2], strides=[2, 2])
    c3 = node("Conv", [mp, weight("w3", (8, 8, 3, 3), 0.2), weight("b3", (8,), 0.1)], "c3_Conv",
              **k3)  # fmt: skip
    dn = node("MaxPool", [x], "dn_MaxPool", kernel_shape=[2, 2], strides=[2, 2])
    cat = node("Concat", [c3, dn], "cat_Concat", axis=1)
    c4 = node("Conv", [cat, weight("w4", (16, 11, 3, 3), 0.15)], "c4_Conv", strides=[2, 2], **k3)
    r4 = node("Relu", [c4], "r4_Relu")
    gp = node("GlobalAveragePool", [r4], "gp_GlobalAveragePool")
    fl = node("Reshape", [gp], "fl_Reshape", shape=(1, 16))
    out = node("MatMul", [fl, weight("w5", (16, 10), 0.3), weight("b5", (10,), 0.1)], "out_MatMul")
    graph = Graph("skewed", [x], [out, c1], made)
    return canonicalize(Module("skewed", graph))


def skewed_inputs(count: int, seed: int) -> list[dict[str, F32Array]]:
    rng = np.random.default_rng(seed)
    return [
        {"x": (rng.normal(0.0, 0.8, (1, 3, 16, 16)) + 1.5).astype(np.float32)} for _ in range(count)
    ]


def cosine(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    return cosine_similarity(np.asarray(a, np.float64), np.asarray(b, np.float64))


@pytest.fixture(scope="module")
def deployed() -> dict[str, tuple[DeployResult, dict[str, np.ndarray]]]:
    """The net deployed INT8 both ways from one ``max`` table (same min/max/threshold)."""
    calibration = skewed_inputs(8, SEED + 1)
    (test,) = skewed_inputs(1, SEED + 2)
    backend = load_backend("bm1684x")
    results = {}
    for scheme in ("symmetric", "asymmetric"):
        module = skewed_conv_net(SEED)
        table, _ = run_calibration(module, calibration, 8, CalibrationSettings(method="max"))
        reference = Interpreter(module).run(test, dump_all=True)
        request = DeployRequest("INT8", table=table, asymmetric=scheme == "asymmetric")
        result = deploy(module, backend, request, test, reference, lambda _: None)
        results[scheme] = (result, {**reference, "input": test["x"]})
    return results


def test_asymmetric_deploy_reaches_cosine_099_and_the_simulator_agrees(
    deployed: dict[str, tuple[DeployResult, dict[str, np.ndarray]]],
) -> None:
    result, reference = deployed["asymmetric"]
    assert result.tpu_outputs is not None and result.model_outputs is not None
    zero_points = {v.quant.zero_point[0] for v in result.program.graph.values().values() if v.quant}
    assert len(zero_points - {0}) >= 3  # the scheme really is asymmetric here
    for name in ("out_MatMul", "c1_Conv"):
        assert cosine(result.tpu_outputs[name], reference[name]) >= 0.99
        np.testing.assert_array_equal(result.model_outputs[name], result.tpu_outputs[name])


def test_the_skewed_tensor_is_more_accurate_than_symmetric(
    deployed: dict[str, tuple[DeployResult, dict[str, np.ndarray]]],
) -> None:
    errors = {}
    for scheme, (result, reference) in deployed.items():
        assert result.tpu_outputs is not None
        (cast,) = [
            n for n in result.program.graph.nodes if n.op_type == "Cast" and n.input(0).name == "x"
        ]
        x_codes = result.tpu_outputs[cast.output.name]  # the input as the chip holds it
        errors[scheme] = (
            float(np.abs(x_codes - reference["input"]).max()),
            cosine(result.tpu_outputs["c1_Conv"], reference["c1_Conv"]),
        )
    sym_max_error, sym_cosine = errors["symmetric"]
    asym_max_error, asym_cosine = errors["asymmetric"]
    # half a step of about 6/255 instead of half of 4.5/127: about 2/3 of the error
    assert asym_max_error < 0.75 * sym_max_error
    assert asym_cosine >= sym_cosine
