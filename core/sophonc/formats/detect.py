"""Which chip a compiled model file was made for, from its own header.

``sophon run`` picks the backend that simulates a file from the chip the file
names, not from its suffix, so a renamed file still runs with the right
arithmetic.
"""

from __future__ import annotations

from pathlib import Path

from sophonc.errors import ModelLoadError

BMODEL_MAGIC = bytes((0xEE, 0xAA, 0x55, 0xFF))
CVIMODEL_MAGIC = b"CviModel"


def container_chip(data: bytes, source: str) -> str:
    """The chip name (lower case) a ``.bmodel``/``.cvimodel`` declares."""
    if data[:4] == BMODEL_MAGIC:
        from sophonc.formats.bmodel import read_bmodel

        return read_bmodel(data, source).chip.lower()
    if data[:8] == CVIMODEL_MAGIC:
        if len(data) < 48:
            raise ModelLoadError(f"{source}: truncated cvimodel header; recompile the model")
        return data[30:46].split(b"\0", 1)[0].decode("ascii", errors="replace").lower()
    raise ModelLoadError(
        f"{source} is not a compiled model (no bmodel or cvimodel header); give a file "
        f"written by 'sophon deploy' or 'sophon compile'"
    )


def is_container(path: Path) -> bool:
    """Whether ``path`` starts like a bmodel or cvimodel."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head[:4] == BMODEL_MAGIC or head == CVIMODEL_MAGIC
