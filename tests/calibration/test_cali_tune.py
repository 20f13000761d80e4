"""The tune step's fake quantization and its TPU-MLIR visiting order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sophonc.calibration.tune import fake_quant


def test_fake_quant_rounds_half_to_even_and_saturates() -> None:
    th = 127.0  # one step per unit
    x = np.array([0.5, 1.5, -2.5, 200.0, -300.0], np.float32)
    np.testing.assert_array_equal(fake_quant(x, th), [0.0, 2.0, -2.0, 127.0, -128.0])


def test_fake_quant_of_a_scalar_weight() -> None:
    # YOLO exports carry 0-d constants (a stride, an exponent): they must not crash.
    assert fake_quant(np.float32(0.3), 1.0) == np.float32(np.rint(0.3 * 127) / 127)


def conv_then_affine(path: Path) -> Path:
    """x → Conv a → depthwise Conv → Mul (per-channel) → Add (per-channel) → y.

    Our canonicalization folds the Mul and Add into the depthwise Conv; TPU-MLIR
    keeps them as MulConst/AddConst after it, so its tune step judges the Conv
    before them. The per-channel gains are far apart so that judging after them
    would weigh the channels differently.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(21)
    inits = {
        "wa": rng.normal(0, 0.5, (4, 3, 3, 3)),
        "wd": rng.normal(0, 0.6, (4, 1, 3, 3)),
        "gain": np.array([40.0, 0.05, 3.0, 0.4]).reshape(1, 4, 1, 1),
        "bias": rng.normal(0, 1.0, (1, 4, 1, 1)),
    }
    nodes = [
        helper.make_node("Conv", ["x", "wa"], ["a"], pads=[1, 1, 1, 1]),
        helper.make_node("Conv", ["a", "wd"], ["d"], pads=[1, 1, 1, 1], group=4),
        helper.make_node("Mul", ["d", "gain"], ["m"]),
        helper.make_node("Add", ["m", "bias"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in inits.items()],
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def test_a_fused_op_is_tuned_on_its_own_output(tmp_path: Path) -> None:
    """Tuning ``a`` (read by the depthwise Conv) gives the same threshold whether the
    Mul/Add after that Conv are folded into it (ours) or kept (TPU-MLIR's graph)."""
    from sophonc.api import FrontendOptions
    from sophonc.calibration.runner import CalibrationSettings, run_calibration
    from sophonc.passes import canonicalize
    from sophonc_frontend_onnx.frontend import OnnxFrontend

    path = conv_then_affine(tmp_path / "m.onnx")
    unfused = OnnxFrontend().load(path, FrontendOptions())
    fused = canonicalize(OnnxFrontend().load(path, FrontendOptions()))
    assert len(fused.graph.nodes) == 2 and len(unfused.graph.nodes) == 4
    rng = np.random.default_rng(22)
    samples = []
    for _ in range(4):  # rare spikes, so that kl clips ``a`` and the tune step widens it
        x = rng.normal(size=(1, 3, 32, 32))
        x[rng.random(x.shape) < 0.003] *= 30.0
        samples.append({"x": x.astype(np.float32)})
    settings = CalibrationSettings("kl", 2048, tune_num=4)
    tuned = {}
    for label, module in (("fused", fused), ("unfused", unfused)):
        table, before = run_calibration(module, samples, len(samples), settings)
        assert before is not None
        (name,) = [n for n in table if n.startswith("a_")]
        tuned[label] = (before[name].threshold, table[name].threshold)
    assert tuned["fused"][0] == tuned["unfused"][0]  # the same kl threshold to start from
    assert tuned["unfused"][1] > tuned["unfused"][0]  # the tune step moved it
    assert tuned["fused"][1] == tuned["unfused"][1]
