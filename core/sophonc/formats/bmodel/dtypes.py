"""The element types a bmodel tensor can declare, with the numbers the file stores.

A bmodel ``Tensor.data_type`` is a bare number whose meaning is fixed by Sophgo's
runtime; this enum gives those numbers names and maps them to the IR dtype names
(``f32``, ``i8``, ...) and to the names ``model_tool --info`` prints.
"""

from __future__ import annotations

from enum import IntEnum


class BModelDType(IntEnum):
    """``bmodel.Tensor.data_type`` values (11 is unassigned in the runtime)."""

    F32 = 0
    F16 = 1
    I8 = 2
    U8 = 3
    I16 = 4
    U16 = 5
    I32 = 6
    U32 = 7
    BF16 = 8
    I4 = 9
    U4 = 10
    F8E5M2 = 12
    F8E4M3 = 13

    @property
    def ir_name(self) -> str:
        """The IR dtype name (``f32``, ``bf16``, ``f8e4m3``, ...)."""
        return self.name.lower()

    @property
    def bits(self) -> int:
        """Width of one element in bits."""
        return _BITS[self]

    @property
    def tool_name(self) -> str:
        """The name the official ``model_tool --info`` prints for this type."""
        return _TOOL_NAMES.get(self, "unkown")  # sic: the official tool's spelling


_BITS: dict[BModelDType, int] = {
    BModelDType.F32: 32,
    BModelDType.F16: 16,
    BModelDType.I8: 8,
    BModelDType.U8: 8,
    BModelDType.I16: 16,
    BModelDType.U16: 16,
    BModelDType.I32: 32,
    BModelDType.U32: 32,
    BModelDType.BF16: 16,
    BModelDType.I4: 4,
    BModelDType.U4: 4,
    BModelDType.F8E5M2: 8,
    BModelDType.F8E4M3: 8,
}

# model_tool knows names for the codes 0..10 only and prints "unkown" for the rest.
_TOOL_NAMES: dict[BModelDType, str] = {
    BModelDType.F32: "float32",
    BModelDType.F16: "float16",
    BModelDType.I8: "int8",
    BModelDType.U8: "uint8",
    BModelDType.I16: "int16",
    BModelDType.U16: "uint16",
    BModelDType.I32: "int32",
    BModelDType.U32: "uint32",
    BModelDType.BF16: "bfloat16",
    BModelDType.I4: "int4",
    BModelDType.U4: "uint4",
}

_BY_IR_NAME: dict[str, BModelDType] = {d.ir_name: d for d in BModelDType}


def dtype_from_ir_name(name: str) -> BModelDType:
    """The bmodel type of an IR dtype name; ValueError names the ones a bmodel can hold."""
    try:
        return _BY_IR_NAME[name]
    except KeyError:
        known = ", ".join(_BY_IR_NAME)
        raise ValueError(f"a bmodel tensor cannot hold dtype '{name}' (known: {known})") from None


def dtype_from_code(code: int) -> BModelDType:
    """The bmodel type stored as ``code``; ValueError for a number the runtime does not use."""
    try:
        return BModelDType(code)
    except ValueError:
        raise ValueError(f"unknown bmodel data type {code}") from None
