"""Reading an ONNX file, with one clear error line for every way it can fail."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from sophonc.errors import ModelLoadError

log = logging.getLogger(__name__)

#: The oldest default-domain opset we convert: opset 7 introduced numpy-style
#: broadcasting, and every older form (legacy ``broadcast``/``axis`` attributes,
#: ``consumed_inputs``) is gone by then.
MIN_OPSET = 7


def load_model_proto(path: Path, *, load_external_data: bool = True) -> Any:
    """Parse ``path`` into a ``ModelProto``.

    External data files are resolved relative to the model's folder (onnx's
    default). Raises :class:`ModelLoadError` for a missing file, a file that is not
    an ONNX model, a truncated or corrupt file, or missing external data.
    """
    import onnx
    from google.protobuf.message import DecodeError

    path = Path(path)
    if not path.exists():
        raise ModelLoadError(f"model file '{path}' not found; check the path")
    if path.is_dir():
        raise ModelLoadError(f"model path '{path}' is a directory; give the .onnx file")
    data = path.read_bytes()
    if not data:
        raise ModelLoadError(f"model file '{path}' is empty; re-export or re-download it")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except DecodeError as exc:
        raise ModelLoadError(_decode_failure(path, data, exc)) from None
    if not _looks_like_model(model):
        raise ModelLoadError(
            f"model file '{path}' is not an ONNX model (no graph or opset found); "
            f"give an .onnx file exported by a framework"
        )
    if load_external_data:
        from onnx.external_data_helper import load_external_data_for_model

        try:
            load_external_data_for_model(model, str(path.resolve().parent))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"model file '{path}' stores weights in external data files that could not "
                f"be read ({exc}); keep them next to the model file"
            ) from None
    log.debug("loaded %s: IR version %d", path, model.ir_version)
    return model


def _decode_failure(path: Path, data: bytes, exc: Exception) -> str:
    # An ONNX file starts with field 1 (ir_version, varint): tag byte 0x08. A file
    # that starts that way but fails to decode was cut short or damaged.
    if data[:1] == b"\x08":
        return (
            f"model file '{path}' is truncated or corrupt (protobuf decode failed: {exc}); "
            f"re-export or re-download it"
        )
    return (
        f"model file '{path}' is not an ONNX model (protobuf decode failed); "
        f"give an .onnx file exported by a framework"
    )


def _looks_like_model(model: Any) -> bool:
    if model.ir_version <= 0:
        return False
    return bool(model.opset_import) or model.HasField("graph")


def default_opset(model: Any) -> int:
    """The model's default-domain opset, checked against the supported range."""
    from onnx import defs

    version = None
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            version = int(imp.version)
    if version is None:
        # IR version 3+ requires an opset import; very old files imply opset 1.
        version = 1
    newest = defs.onnx_opset_version()
    if version < MIN_OPSET:
        raise ModelLoadError(
            f"the model uses ONNX opset {version}; sophonc converts opset {MIN_OPSET} to "
            f"{newest}: upgrade it with onnx.version_converter.convert_version"
        )
    if version > newest:
        raise ModelLoadError(
            f"the model uses ONNX opset {version}, newer than the installed onnx knows "
            f"({newest}); upgrade the onnx package"
        )
    return version


def domain_opsets(model: Any) -> dict[str, int]:
    """Every imported domain's opset (the default domain under '')."""
    table: dict[str, int] = {}
    for imp in model.opset_import:
        dom = "" if imp.domain in ("", "ai.onnx") else imp.domain
        table[dom] = int(imp.version)
    return table
