"""A small, bounds-checked reader for flatbuffer tables.

The generated flatbuffers accessors trust the buffer: a corrupt offset turns into
an IndexError, a struct.error or garbage. Loading a model must instead fail with
one clear line, so every offset, length and field read here is checked against the
buffer first and any violation raises :class:`FlatBufferError` with the path of the
field (``Model.net[1].parameter[0].input_tensor[2].name``).

Layout reminders: a table starts with an i32 pointing back to its vtable; the vtable
holds u16 vtable size, u16 table size, then one u16 offset per field id (0 = absent).
Offsets to strings, vectors and sub-tables are u32 relative to where they are stored;
vectors and strings start with a u32 element count.
"""

from __future__ import annotations

import struct
from typing import Final

_U16: Final = struct.Struct("<H")
_I32: Final = struct.Struct("<i")
_U32: Final = struct.Struct("<I")
_U64: Final = struct.Struct("<Q")
_F32: Final = struct.Struct("<f")


class FlatBufferError(ValueError):
    """The flatbuffer is malformed; the message says where and how."""


class FlatBuffer:
    """The bytes of one flatbuffer, read only through range-checked helpers."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, fmt: struct.Struct, pos: int, where: str) -> int | float:
        """One scalar at ``pos``."""
        self.need(pos, fmt.size, where)
        value: int | float = fmt.unpack_from(self.data, pos)[0]
        return value

    def need(self, pos: int, size: int, where: str) -> None:
        """Fail unless ``size`` bytes from ``pos`` are inside the buffer."""
        if pos < 0 or size < 0 or pos + size > len(self.data):
            raise FlatBufferError(
                f"{where}: offset {pos}+{size} is outside the flatbuffer of {len(self.data)} bytes"
            )

    def uoffset(self, pos: int, where: str) -> int:
        """Follow the u32 offset stored at ``pos``."""
        target = pos + int(self.read(_U32, pos, where))
        self.need(target, 0, where)
        return target

    def root(self) -> Table:
        """The root table."""
        return Table(self, self.uoffset(0, "root"), "Model")


class Table:
    """One table of a flatbuffer; fields are looked up by their schema id."""

    __slots__ = ("buf", "path", "pos", "table_size", "vtable", "vtable_size")

    def __init__(self, buf: FlatBuffer, pos: int, path: str) -> None:
        self.buf = buf
        self.pos = pos
        self.path = path
        self.vtable = pos - int(buf.read(_I32, pos, path))
        self.vtable_size = int(buf.read(_U16, self.vtable, f"{path} vtable"))
        self.table_size = int(buf.read(_U16, self.vtable + 2, f"{path} vtable"))
        if self.vtable_size < 4 or self.vtable_size % 2:
            raise FlatBufferError(f"{path}: vtable size {self.vtable_size} is invalid")
        buf.need(self.vtable, self.vtable_size, f"{path} vtable")
        if self.table_size < 4:
            raise FlatBufferError(f"{path}: table size {self.table_size} is invalid")
        buf.need(pos, self.table_size, path)

    def _field(self, fid: int, size: int, name: str) -> int | None:
        """Buffer position of field ``fid`` (``size`` bytes), or None if absent."""
        entry = 4 + 2 * fid
        if entry + 2 > self.vtable_size:
            return None
        offset = int(self.buf.read(_U16, self.vtable + entry, f"{self.path}.{name}"))
        if offset == 0:
            return None
        if offset + size > self.table_size:
            raise FlatBufferError(f"{self.path}.{name}: field lies outside its table")
        return self.pos + offset

    def _scalar(self, fid: int, fmt: struct.Struct, default: int | float, name: str) -> int | float:
        pos = self._field(fid, fmt.size, name)
        return default if pos is None else self.buf.read(fmt, pos, f"{self.path}.{name}")

    def u32(self, fid: int, name: str, default: int = 0) -> int:
        return int(self._scalar(fid, _U32, default, name))

    def i32(self, fid: int, name: str, default: int = 0) -> int:
        return int(self._scalar(fid, _I32, default, name))

    def u64(self, fid: int, name: str, default: int = 0) -> int:
        return int(self._scalar(fid, _U64, default, name))

    def f32(self, fid: int, name: str, default: float = 0.0) -> float:
        return float(self._scalar(fid, _F32, default, name))

    def struct_bytes(self, fid: int, size: int, name: str) -> bytes | None:
        """The raw bytes of an inline struct field."""
        pos = self._field(fid, size, name)
        return None if pos is None else self.buf.data[pos : pos + size]

    def _target(self, fid: int, name: str) -> int | None:
        pos = self._field(fid, 4, name)
        return None if pos is None else self.buf.uoffset(pos, f"{self.path}.{name}")

    def _vector(self, fid: int, elem_size: int, name: str) -> tuple[int, int] | None:
        """(first element position, element count) of a vector field."""
        start = self._target(fid, name)
        if start is None:
            return None
        where = f"{self.path}.{name}"
        count = int(self.buf.read(_U32, start, where))
        self.buf.need(start + 4, count * elem_size, where)
        return start + 4, count

    def string(self, fid: int, name: str) -> str | None:
        found = self._vector(fid, 1, name)
        if found is None:
            return None
        first, count = found
        try:
            return self.buf.data[first : first + count].decode("utf-8")
        except UnicodeDecodeError:
            raise FlatBufferError(f"{self.path}.{name}: string is not valid UTF-8") from None

    def table(self, fid: int, name: str) -> Table | None:
        pos = self._target(fid, name)
        return None if pos is None else Table(self.buf, pos, f"{self.path}.{name}")

    def tables(self, fid: int, name: str) -> list[Table] | None:
        found = self._vector(fid, 4, name)
        if found is None:
            return None
        first, count = found
        where = f"{self.path}.{name}"
        return [
            Table(self.buf, self.buf.uoffset(first + 4 * i, f"{where}[{i}]"), f"{where}[{i}]")
            for i in range(count)
        ]

    def u8s(self, fid: int, name: str) -> bytes | None:
        found = self._vector(fid, 1, name)
        if found is None:
            return None
        first, count = found
        return self.buf.data[first : first + count]

    def u64s(self, fid: int, name: str) -> list[int] | None:
        found = self._vector(fid, 8, name)
        if found is None:
            return None
        first, count = found
        return [v for (v,) in _U64.iter_unpack(self.buf.data[first : first + 8 * count])]

    def i32s(self, fid: int, name: str) -> list[int] | None:
        found = self._vector(fid, 4, name)
        if found is None:
            return None
        first, count = found
        return [v for (v,) in _I32.iter_unpack(self.buf.data[first : first + 4 * count])]
