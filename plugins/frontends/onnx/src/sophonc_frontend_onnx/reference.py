"""Running the original model in onnxruntime, keyed by IR tensor names.

The result compares directly with the interpreter's dump: a node output is keyed
``<onnx tensor>_<OpType>``, a graph input or initializer by its own name. To dump
intermediates, an in-memory copy of the model lists every typed node output as a
graph output and runs with graph optimisations off, so every tensor still exists
(fused-away tensors would otherwise be missing or differ).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from sophonc.api import FrontendOptions
from sophonc.errors import ModelLoadError, SophonError
from sophonc_frontend_onnx.loader import load_model_proto

log = logging.getLogger(__name__)

_ORT_TYPES: dict[str, npt.DTypeLike] = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(int16)": np.int16,
    "tensor(int8)": np.int8,
    "tensor(uint8)": np.uint8,
    "tensor(uint16)": np.uint16,
    "tensor(uint32)": np.uint32,
    "tensor(uint64)": np.uint64,
    "tensor(bool)": np.bool_,
}


def _import_ort() -> Any:
    try:
        import onnxruntime
    except ImportError:
        raise SophonError(
            "onnxruntime is not installed; install it with "
            "pip install 'sophonc-frontend-onnx[reference]'"
        ) from None
    return onnxruntime


def _fix_input_shapes(model: Any, feeds: Mapping[str, npt.NDArray[np.generic]]) -> None:
    """Write the fed shapes into the copy's inputs so shape inference types everything."""
    for vi in model.graph.input:
        if vi.name not in feeds:
            continue
        shape = vi.type.tensor_type.shape
        arr = feeds[vi.name]
        del shape.dim[:]
        for d in arr.shape:
            shape.dim.add().dim_value = int(d)


def _expose_tensors(model: Any, names: list[str] | None) -> None:
    """Make ``names`` (None: every node output) the graph outputs of ``model``."""
    import onnx

    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # onnx raises several types here
        log.warning("shape inference failed (%s); only typed tensors are dumped", exc)
        inferred = model
    g = inferred.graph
    types: dict[str, int] = {}
    for vi in [*g.input, *g.value_info, *g.output]:
        et = vi.type.tensor_type.elem_type
        if et:
            types[vi.name] = et
    for t in model.graph.initializer:
        types[t.name] = t.data_type
    if names is None:
        names = [o for n in model.graph.node if n.op_type != "Constant" for o in n.output if o]
    outputs = []
    for name in names:
        if name not in types:
            log.debug("skipping '%s': its type cannot be determined", name)
            continue
        outputs.append(onnx.helper.make_tensor_value_info(name, types[name], None))
    del model.graph.output[:]
    model.graph.output.extend(outputs)


def run_reference(
    path: Path,
    options: FrontendOptions,
    inputs: Mapping[str, npt.ArrayLike],
    *,
    all_tensors: bool = False,
) -> dict[str, npt.NDArray[np.generic]]:
    """Run ``path`` in onnxruntime on ``inputs``; see the module docstring for keys."""
    ort = _import_ort()
    model = load_model_proto(path)
    g = model.graph
    init_names = {t.name for t in g.initializer}
    input_names = [vi.name for vi in g.input if vi.name not in init_names]
    missing = [n for n in input_names if n not in inputs]
    if missing:
        raise SophonError(
            f"missing input '{missing[0]}'; the model's inputs are: {', '.join(input_names)}"
        )
    feeds_raw = {n: np.asarray(inputs[n]) for n in input_names}
    op_of = {o: n.op_type for n in g.node for o in n.output if o}

    sess_opts = ort.SessionOptions()
    sess_opts.log_severity_level = 3
    if all_tensors or options.output_names:
        _fix_input_shapes(model, feeds_raw)
        _expose_tensors(model, None if all_tensors else list(options.output_names))
        if all_tensors:
            sess_opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    try:
        session = ort.InferenceSession(
            model.SerializeToString(), sess_opts, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:
        raise ModelLoadError(
            f"onnxruntime cannot load '{path}': {str(exc).splitlines()[0]}"
        ) from None
    feeds: dict[str, npt.NDArray[np.generic]] = {}
    for meta in session.get_inputs():
        dtype = _ORT_TYPES.get(meta.type, np.float32)
        feeds[meta.name] = feeds_raw[meta.name].astype(dtype, copy=False)
    names = [o.name for o in session.get_outputs()]
    try:
        results = session.run(names, feeds)
    except Exception as exc:
        raise SophonError(f"onnxruntime failed on '{path}': {str(exc).splitlines()[0]}") from None
    out: dict[str, npt.NDArray[np.generic]] = {}
    for name, arr in zip(names, results, strict=True):
        key = f"{name}_{op_of[name]}" if name in op_of else name
        out[key] = np.asarray(arr)
    return out
