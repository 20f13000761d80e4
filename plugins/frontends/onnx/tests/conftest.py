"""Shared helpers for the ONNX frontend tests: build one-op models, run both sides.

Each op test builds a tiny model with ``onnx.helper``, imports it with
:class:`OnnxFrontend`, runs the core reference interpreter and onnxruntime on the
same seeded inputs and compares every output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from sophonc.api import FrontendOptions  # noqa: E402
from sophonc.interp import Interpreter  # noqa: E402
from sophonc.ir.module import Module  # noqa: E402
from sophonc_frontend_onnx.frontend import OnnxFrontend  # noqa: E402

_NP_TO_ONNX = {
    np.dtype(np.float32): TensorProto.FLOAT,
    np.dtype(np.float16): TensorProto.FLOAT16,
    np.dtype(np.int64): TensorProto.INT64,
    np.dtype(np.int32): TensorProto.INT32,
    np.dtype(np.int8): TensorProto.INT8,
    np.dtype(np.uint8): TensorProto.UINT8,
    np.dtype(np.bool_): TensorProto.BOOL,
}


def onnx_type(dtype: Any) -> int:
    """The ONNX element type of a numpy dtype."""
    return _NP_TO_ONNX[np.dtype(dtype)]


def make_model(
    nodes: Sequence[Any],
    inputs: Mapping[str, np.ndarray] | Sequence[tuple[str, Any, Sequence[Any] | None]],
    outputs: Sequence[str],
    *,
    initializers: Mapping[str, np.ndarray] | None = None,
    opset: int = 17,
    ir_version: int | None = None,
) -> Any:
    """A model over ``nodes``; inputs from arrays (typed by them) or (name, dtype, shape)."""
    if isinstance(inputs, Mapping):
        in_infos = [
            helper.make_tensor_value_info(n, onnx_type(a.dtype), list(a.shape))
            for n, a in inputs.items()
        ]
    else:
        in_infos = [helper.make_tensor_value_info(n, onnx_type(t), s) for n, t, s in inputs]
    out_infos = [helper.make_tensor_value_info(n, TensorProto.UNDEFINED, None) for n in outputs]
    inits = [onnx.numpy_helper.from_array(a, n) for n, a in (initializers or {}).items()]
    graph = helper.make_graph(list(nodes), "test", in_infos, out_infos, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version or min(onnx.IR_VERSION, 10)
    # onnxruntime needs typed graph outputs: take them from ONNX shape inference.
    inferred = onnx.shape_inference.infer_shapes(model)
    types = {vi.name: vi.type for vi in [*inferred.graph.value_info, *inferred.graph.output]}
    for out in model.graph.output:
        if out.name in types and types[out.name].tensor_type.elem_type:
            out.type.CopyFrom(types[out.name])
        else:  # ops onnx cannot infer (functions): float, as in these tests
            out.type.tensor_type.elem_type = TensorProto.FLOAT
    return model


def run_ours(
    model: Any, feeds: Mapping[str, np.ndarray], tmp_path: Path, **opts: Any
) -> tuple[Module, dict[str, np.ndarray]]:
    """Save, import and interpret ``model``; outputs keyed by ONNX output order."""
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    module = OnnxFrontend().load(path, FrontendOptions(**opts))
    result = Interpreter(module).run(dict(feeds))
    return module, {v.name: result[v.name] for v in module.graph.outputs}


def run_ort(model: Any, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """Run ``model`` in onnxruntime (default optimisations)."""
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    return [np.asarray(a) for a in sess.run(None, dict(feeds))]


CheckFn = Callable[..., Module]


@pytest.fixture
def check(tmp_path: Path) -> CheckFn:
    """``check(model, feeds, rtol=1e-5, atol=1e-5)``: ours == onnxruntime, output by output."""

    def _check(
        model: Any,
        feeds: Mapping[str, np.ndarray],
        *,
        rtol: float = 1e-5,
        atol: float = 1e-5,
        **opts: Any,
    ) -> Module:
        module, ours = run_ours(model, feeds, tmp_path, **opts)
        ref = run_ort(model, feeds)
        assert len(ours) == len(ref)
        for (name, got), want in zip(ours.items(), ref, strict=True):
            assert got.shape == want.shape, name
            assert got.dtype == want.dtype or (
                want.dtype == np.float64 and got.dtype == np.float32
            ), f"{name}: {got.dtype} vs {want.dtype}"
            if want.dtype == np.bool_ or np.issubdtype(want.dtype, np.integer):
                np.testing.assert_array_equal(got, want, err_msg=name)
            else:
                scale = max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
                np.testing.assert_allclose(got, want, rtol=rtol, atol=atol * scale, err_msg=name)
        return module

    return _check


@pytest.fixture(name="make_model")
def make_model_fixture() -> Callable[..., Any]:
    """:func:`make_model` as a fixture (conftest modules are not importable)."""
    return make_model


@pytest.fixture(name="run_ours")
def run_ours_fixture(tmp_path: Path) -> Callable[..., tuple[Module, dict[str, np.ndarray]]]:
    """:func:`run_ours` bound to the test's tmp_path."""

    def _run(model: Any, feeds: Mapping[str, np.ndarray], **opts: Any) -> Any:
        return run_ours(model, feeds, tmp_path, **opts)

    return _run


@pytest.fixture(name="run_ort")
def run_ort_fixture() -> Callable[..., list[np.ndarray]]:
    """:func:`run_ort` as a fixture."""
    return run_ort
