"""The binary blob at the end of a bmodel, filled payload by payload.

TPU-MLIR stores each distinct payload once: a second payload with the same bytes gets
the ``Binary{start, size}`` of the first. Models with several stages or nets share
weights and command streams this way, so the rule is kept.
"""

from __future__ import annotations

from sophonc.formats.bmodel.schema import BinaryRef


class BlobBuilder:
    """Appends payloads to one blob, handing back where each one landed."""

    __slots__ = ("_parts", "_placed", "_size")

    def __init__(self) -> None:
        self._parts: list[bytes] = []
        self._placed: dict[bytes, BinaryRef] = {}
        self._size = 0

    def add(self, data: bytes) -> BinaryRef:
        """Place ``data`` (or find the identical payload placed before)."""
        data = bytes(data)
        found = self._placed.get(data)
        if found is not None:
            return found
        ref = BinaryRef(self._size, len(data))
        self._placed[data] = ref
        self._parts.append(data)
        self._size += len(data)
        return ref

    @property
    def size(self) -> int:
        """Bytes placed so far."""
        return self._size

    def getvalue(self) -> bytes:
        """The whole blob."""
        return b"".join(self._parts)
