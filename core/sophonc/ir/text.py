"""The IR on disk: a readable text file plus its weights in an ``.npz`` beside it.

This is TPU-MLIR's arrangement (``yolov5s.mlir`` and ``yolov5s_top_f32_all_weight.npz``,
the module naming its weight file in ``weight_file``), so the pair can be looked at,
diffed and edited by hand. The text form itself is described in
:mod:`sophonc.ir.text_printer`; this module adds the files: both are written
atomically and together, so a failed save leaves neither behind, and every way a
pair can be broken (a file missing, a weight missing or of another shape or dtype,
a malformed line) is reported as one :class:`IRError` line naming the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sophonc.errors import IRError, SophonError
from sophonc.ir.attrs import AttrValue
from sophonc.ir.module import Module
from sophonc.ir.text_lexer import format_name
from sophonc.ir.text_parser import Weights, parse_module, parse_text
from sophonc.ir.text_printer import format_module, format_tensor_type, print_module
from sophonc.ir.types import numpy_dtype
from sophonc.npzfile import check_npz_key, fill_npz, read_npz, replace_atomically

__all__ = ["load_module", "parse_module", "print_module", "save_module"]

#: The module metadata key naming the weight file, relative to the text file.
WEIGHT_FILE_KEY = "weight_file"


def _weight_arrays(module: Module, path: Path) -> dict[str, npt.NDArray[np.generic]]:
    """The weights to save by name, checked to match their declared types so that
    what is written can be loaded back."""
    arrays: dict[str, npt.NDArray[np.generic]] = {}
    for value in module.graph.weights():
        data = np.asarray(value.const)
        ref = format_name("%", value.name)
        if data.dtype.hasobject or data.dtype != numpy_dtype(value.type.dtype):
            raise IRError(
                f"cannot save '{path}': weight {ref} holds {data.dtype} data but is "
                f"declared {format_tensor_type(value.type)}; give it data of that dtype"
            )
        if value.type.shape is not None and tuple(data.shape) != value.type.shape:
            raise IRError(
                f"cannot save '{path}': weight {ref} holds data of shape "
                f"{list(data.shape)} but is declared {format_tensor_type(value.type)}"
            )
        try:
            check_npz_key(value.name)
        except ValueError as exc:
            raise IRError(f"cannot save '{path}': weight {ref}: {exc}; rename it") from None
        arrays[value.name] = data
    return arrays


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def _relative_name(target: Path, start: Path) -> str:
    """``target`` relative to ``start`` with forward slashes (absolute when the two
    are on different Windows drives and no relative path exists)."""
    try:
        relative = os.path.relpath(os.path.abspath(target), os.path.abspath(start))
    except ValueError:
        relative = os.path.abspath(target)
    return Path(relative).as_posix()


def save_module(module: Module, path: Path | str, weight_path: Path | str) -> None:
    """Write ``module`` as text to ``path`` and its weights to ``weight_path``.

    The npz holds exactly ``module.graph.weights()``, keyed by value name. The
    weight file's name relative to the text file is recorded under the metadata
    key ``weight_file``, in the text and, once both files are written, in
    ``module.metadata`` as well (TPU-MLIR keeps ``module.weight_file`` the same
    way). Any failure raises :class:`IRError`, leaves no new file behind and, unless
    it strikes between the two final renames, leaves files saved earlier untouched.
    """
    path, weight_path = Path(path), Path(weight_path)
    metadata: dict[str, AttrValue] = dict(module.metadata)
    metadata[WEIGHT_FILE_KEY] = _relative_name(weight_path, path.parent)
    text = format_module(module, metadata)
    arrays = _weight_arrays(module, path)
    # Both files are filled under temporary names first and moved into place last,
    # text before weights, so a failure while writing leaves any earlier pair intact.
    writing = [weight_path]

    def fill_weights_then_place_both(weight_tmp: Path) -> None:
        fill_npz(weight_tmp, arrays)
        writing.append(path)
        replace_atomically(path, lambda tmp: _write_text(tmp, text))
        writing.append(weight_path)

    try:
        replace_atomically(weight_path, fill_weights_then_place_both)
    except BaseException as exc:
        if len(writing) == 3:  # the text is in place but its weights could not follow
            path.unlink(missing_ok=True)
        if not isinstance(exc, OSError | ValueError):
            raise
        cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise IRError(f"cannot write '{writing[-1]}': {' '.join(cause.split())}") from None
    module.metadata[WEIGHT_FILE_KEY] = metadata[WEIGHT_FILE_KEY]


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise IRError(f"IR file '{path}' not found; check the path") from None
    except UnicodeDecodeError as exc:
        raise IRError(f"'{path}' is not an IR text file (byte {exc.start} is not UTF-8)") from None
    except OSError as exc:
        raise IRError(f"cannot read IR file '{path}': {exc.strerror or exc}") from None


def load_module(path: Path | str) -> Module:
    """Read a module saved by :func:`save_module`: the text and the npz it names."""
    path = Path(path)
    text = _read_text(path)

    def weights_named_by(metadata: Mapping[str, AttrValue]) -> tuple[Weights, str]:
        name = metadata.get(WEIGHT_FILE_KEY)
        if name is None:
            return {}, "the weights: the module metadata names no weight_file"
        if not isinstance(name, str):
            raise IRError(f"{path}:1: metadata weight_file must be a string, not {name!r}")
        weight_path = path.parent / name
        if not weight_path.is_file():
            raise IRError(
                f"{path}: weight file '{weight_path}' not found; keep it beside the IR "
                f"file or correct weight_file on line 1"
            )
        try:
            return read_npz(weight_path), f"weight file '{weight_path}'"
        except SophonError as exc:
            raise IRError(f"{path}: {exc}") from None

    return parse_text(text, str(path), weights_named_by)
