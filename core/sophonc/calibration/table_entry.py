"""The rows of a calibration table: one threshold line, one per-channel scale line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import NamedTuple

#: What TPU-MLIR's importer accepts as a threshold line (the whole line must match).
ENTRY_PATTERN = re.compile(r"\S+\s+[-0-9.e]+\s+[-0-9.e]+\s+[-0-9.e]+")


class TableEntry(NamedTuple):
    """One tensor's row: symmetric ``threshold`` and the observed ``min``/``max``."""

    threshold: float
    min: float
    max: float


def format_entry(name: str, entry: TableEntry) -> str:
    """``name threshold min max`` with ``%.7f`` values, as TPU-MLIR writes (no newline)."""
    return f"{name} {float(entry.threshold):.7f} {float(entry.min):.7f} {float(entry.max):.7f}"


@dataclass(frozen=True)
class ScaleLine:
    """A ``#weight_scale`` line kept as written: ``<name> <count> v0 .. v(count-1) [more]``.

    TPU-MLIR reads ``count`` scales after the name and ignores the rest (QAT exporters
    append zero points there); the raw tokens are kept so the line is written back as
    it was read.
    """

    tokens: tuple[str, ...]

    @property
    def scales(self) -> tuple[float, ...]:
        """The per-channel scales: the ``count`` numbers after the count."""
        count = int(self.tokens[0])
        return tuple(float(token) for token in self.tokens[1 : 1 + count])

    @classmethod
    def from_scales(cls, scales: tuple[float, ...] | list[float]) -> ScaleLine:
        """A line holding just ``scales`` (written with ``repr``, so they read back exactly)."""
        return cls((str(len(scales)), *(repr(float(value)) for value in scales)))

    def is_valid(self) -> bool:
        """Whether the tokens start with a count followed by that many numbers."""
        if not self.tokens or not self.tokens[0].isdigit():
            return False
        count = int(self.tokens[0])
        if len(self.tokens) < 1 + count:
            return False
        try:
            self.scales  # noqa: B018 - parsing is the check
        except ValueError:
            return False
        return True
