"""ONNX element types and IR dtype names.

Float tensors are f32 in the top-level IR: doubles are narrowed to f32 (weights
already are, by ``Value.weight``). f16/bf16 keep their type so a Cast the model
does on purpose keeps its rounding. Integer and bool tensors keep their exact type.
"""

from __future__ import annotations

from sophonc.errors import ModelLoadError

# TensorProto.DataType numbers (stable across onnx releases, so no onnx import).
_ONNX_TO_IR: dict[int, str] = {
    1: "f32",  # FLOAT
    2: "u8",  # UINT8
    3: "i8",  # INT8
    4: "u16",  # UINT16
    5: "i16",  # INT16
    6: "i32",  # INT32
    7: "i64",  # INT64
    9: "bool",  # BOOL
    10: "f16",  # FLOAT16
    11: "f32",  # DOUBLE, narrowed
    12: "u32",  # UINT32
    13: "i64",  # UINT64, no unsigned 64-bit in the IR
    16: "bf16",  # BFLOAT16
}

_NAMES = {
    0: "UNDEFINED",
    8: "STRING",
    14: "COMPLEX64",
    15: "COMPLEX128",
}

_IR_TO_ONNX: dict[str, int] = {
    "f32": 1,
    "u8": 2,
    "i8": 3,
    "u16": 4,
    "i16": 5,
    "i32": 6,
    "i64": 7,
    "bool": 9,
    "f16": 10,
    "f64": 11,
    "u32": 12,
    "bf16": 16,
}


def ir_dtype(elem_type: int, where: str) -> str:
    """The IR dtype of an ONNX element type; ModelLoadError naming ``where`` if none."""
    try:
        return _ONNX_TO_IR[elem_type]
    except KeyError:
        name = _NAMES.get(elem_type, f"type #{elem_type}")
        raise ModelLoadError(
            f"{where} has ONNX element type {name}, which sophonc does not support; "
            f"cast it to a numeric type in the model"
        ) from None


def onnx_elem_type(dtype: str) -> int:
    """The ONNX element type number of an IR dtype name."""
    return _IR_TO_ONNX[dtype]
