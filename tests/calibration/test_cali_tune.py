"""The tune step's fake quantization and its TPU-MLIR visiting order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from onnx_graphs import save_single_input_model, single_input_model
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
    from onnx import helper

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
    return save_single_input_model(path, nodes, inits, [1, 3, 32, 32])


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


def test_the_tune_step_runs_the_op_with_float_weights(tmp_path: Path) -> None:
    """The tuned threshold of ``a``, recomputed here with onnxruntime: each candidate
    fake-quantizes ``a`` and runs the depthwise Conv with its float weights (TPU-MLIR
    1.30.2's tune; with int8 weights the PP-OCR classifier's ``relu_4`` came out 9.82
    where TPU-MLIR writes 9.10)."""
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    from sophonc.api import FrontendOptions
    from sophonc.calibration.runner import CalibrationSettings, run_calibration
    from sophonc_frontend_onnx.frontend import OnnxFrontend

    path = conv_then_affine(tmp_path / "m.onnx")
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        if init.name == "wd":  # one tap per channel 40× the others: int8 weights lose the rest
            wd = numpy_helper.to_array(init).copy()
            wd[:, :, 1, 1] *= 40.0
            init.CopyFrom(numpy_helper.from_array(wd, "wd"))
    onnx.save(model, str(path))
    module = OnnxFrontend().load(path, FrontendOptions())
    rng = np.random.default_rng(23)
    samples = []
    for _ in range(4):
        x = rng.normal(size=(1, 3, 32, 32))
        x[rng.random(x.shape) < 0.003] *= 30.0
        samples.append({"x": x.astype(np.float32)})
    table, before = run_calibration(module, samples, 4, CalibrationSettings("kl", 2048, tune_num=4))
    assert before is not None
    (name,) = [n for n in table if n.startswith("a_")]

    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    def one_conv(w: str, shape: list[int], **attrs: Any) -> Any:
        """``Conv(x, w)`` alone, in onnxruntime."""
        node = helper.make_node("Conv", ["x", w], ["y"], pads=[1, 1, 1, 1], **attrs)
        model = single_input_model([node], {w: inits[w]}, shape)
        return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])

    conv_a = one_conv("wa", [1, 3, 32, 32])
    depthwise = one_conv("wd", [1, 4, 32, 32], group=4)
    acts = [conv_a.run(None, s)[0] for s in samples]
    th_kl = float(before[name].threshold)
    abs_max = max(float(np.abs(a).max()) for a in acts)
    candidates = th_kl + np.arange(22) * (abs_max - th_kl) / 21
    distances = np.zeros(22)
    for a in acts:
        ref = depthwise.run(None, {"x": a})[0].ravel()
        for k, th in enumerate(candidates):
            out = depthwise.run(None, {"x": fake_quant(a, float(th))})[0].ravel()
            distances[k] += np.linalg.norm(ref - out) / np.abs(ref).sum()
    best = 0
    for k in range(1, 22):
        if distances[k] < distances[best]:
            best = k
    assert best > 0  # the case is one where tuning matters
    np.testing.assert_allclose(
        float(table[name].threshold), max(th_kl, float(candidates[best])), rtol=1e-6
    )
