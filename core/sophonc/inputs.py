"""Turning ``--test_input`` files into the input tensors of a model.

TPU-MLIR accepts three kinds of test input and so do we, with its rules:

* one ``.npz``: with a single array and a single model input, that array feeds it
  (whatever its key); otherwise each input is looked up by name. An array with
  batch 1 is repeated to the model's batch;
* pictures (.jpg/.jpeg/.png/.bmp): one per input, preprocessed with the config
  stored on that input's ``meta``; fewer pictures than inputs reuse the last;
* ``.npy`` files: exactly one per input, in input order.

Anything that does not fit the input's shape is a :class:`ShapeError` naming the
input, the given shape and the expected one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sophonc.errors import ShapeError, SophonError
from sophonc.ir.types import numpy_dtype
from sophonc.ir.value import Value
from sophonc.npzfile import read_npz
from sophonc.preprocess import PreprocessConfig, is_image_file, load_image

Arrays = dict[str, npt.NDArray[np.generic]]


def load_npy(path: Path) -> npt.NDArray[np.generic]:
    """One ``.npy`` array, with one-line errors."""
    path = Path(path)
    if not path.is_file():
        raise SophonError(f"npy file '{path}' not found; check the path")
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except (OSError, ValueError, EOFError) as exc:
        raise SophonError(f"cannot read '{path}' as an .npy file ({exc}); re-create it") from None


def split_paths(text: str) -> list[Path]:
    """``"a.jpg,b.jpg"`` → paths (TPU-MLIR's comma-separated ``--test_input``)."""
    return [Path(p.strip()) for p in text.split(",") if p.strip()]


def fit_array(value: Value, arr: npt.NDArray[np.generic], source: str) -> npt.NDArray[np.generic]:
    """Check ``arr`` fits input ``value`` (repeating batch 1), cast to its dtype."""
    want = value.type.shape
    arr = np.asarray(arr)
    if want is not None and tuple(arr.shape) != tuple(want):
        batch_fits = (
            arr.ndim == len(want)
            and arr.ndim > 0
            and arr.shape[0] == 1
            and tuple(arr.shape[1:]) == tuple(want[1:])
        )
        if not batch_fits:
            raise ShapeError(
                f"test input for '{value.name}' ({source}) has shape {list(arr.shape)} but the "
                f"model expects {list(want)}; give data of that shape"
            )
        arr = np.repeat(arr, want[0], axis=0)
    return np.ascontiguousarray(arr.astype(numpy_dtype(value.dtype), copy=False))


def _from_npz(path: Path, inputs: Sequence[Value]) -> Arrays:
    data = read_npz(path)
    if len(inputs) == 1 and len(data) == 1:
        (arr,) = data.values()
        return {inputs[0].name: fit_array(inputs[0], arr, path.name)}
    missing = [v.name for v in inputs if v.name not in data]
    if missing:
        raise SophonError(
            f"'{path}' has no array named '{missing[0]}'; its arrays are "
            f"{', '.join(data) or 'none'}, the model's inputs are "
            f"{', '.join(v.name for v in inputs)}"
        )
    return {v.name: fit_array(v, data[v.name], f"{path.name}:{v.name}") for v in inputs}


def _from_images(paths: Sequence[Path], inputs: Sequence[Value]) -> Arrays:
    out: Arrays = {}
    for i, v in enumerate(inputs):
        path = paths[min(i, len(paths) - 1)]
        config = PreprocessConfig.from_meta(v.meta)
        if config is None:
            raise SophonError(
                f"input '{v.name}' has no image preprocessing (channel_format none or not an "
                f"image-shaped input), so a picture cannot feed it; give an .npz or .npy instead"
            )
        if v.type.shape is None:
            raise ShapeError(f"input '{v.name}' has no static shape; set --input_shapes")
        out[v.name] = fit_array(v, load_image(path, config, v.type.shape), path.name)
    return out


def _from_npys(paths: Sequence[Path], inputs: Sequence[Value]) -> Arrays:
    if len(paths) != len(inputs):
        raise SophonError(
            f"{len(paths)} .npy file(s) given for {len(inputs)} input(s) "
            f"({', '.join(v.name for v in inputs)}); give one .npy per input, in order"
        )
    return {v.name: fit_array(v, load_npy(p), p.name) for v, p in zip(inputs, paths, strict=True)}


def build_inputs(paths: Sequence[Path], inputs: Sequence[Value]) -> Arrays:
    """The input tensors (keys = input names) for ``paths``; see the module docstring."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise SophonError("no test input given; pass an .npz, .npy or picture file")
    for p in paths:
        if not p.is_file():
            raise SophonError(f"test input '{p}' not found; check the path")
    if not inputs:
        raise SophonError("the model has no inputs to feed")
    suffixes = {p.suffix.lower() for p in paths}
    if suffixes == {".npz"}:
        if len(paths) != 1:
            raise SophonError("give a single .npz holding every input, not several .npz files")
        return _from_npz(paths[0], inputs)
    if all(is_image_file(p) for p in paths):
        return _from_images(paths, inputs)
    if suffixes == {".npy"}:
        return _from_npys(paths, inputs)
    raise SophonError(
        f"test input {', '.join(str(p) for p in paths)}: use one .npz, pictures "
        f"(.jpg/.jpeg/.png/.bmp) or one .npy per input, not a mix or other kinds"
    )
