"""The mixed-precision table (qtable): ``<op name> <MODE>`` lines.

TPU-MLIR's format: ``#`` starts a comment; every other non-blank line
is a node name and a mode (F32, F16, BF16, INT8, …). ``model_deploy
--quantize_table`` reads it; ``run_qtable`` writes it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path

from sophonc.errors import SophonError
from sophonc.npzfile import replace_atomically

#: Modes a qtable line may name.
QTABLE_MODES = ("F32", "F16", "BF16", "INT8", "INT4", "F8E4M3", "F8E5M2")


def read_qtable(path: Path) -> dict[str, str]:
    """Node name -> mode, in file order; one-line SophonError for a bad file or line."""
    path = Path(path)
    if not path.is_file():
        raise SophonError(f"quantize table '{path}' not found; check --quantize_table")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SophonError(f"cannot read quantize table '{path}': {exc}") from None
    table: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split()
        if len(parts) != 2:
            raise SophonError(f"{path}:{number}: expected '<op name> <MODE>', got '{stripped}'")
        name, mode = parts[0], parts[1].upper()
        if mode not in QTABLE_MODES:
            raise SophonError(
                f"{path}:{number}: unknown mode '{parts[1]}' for '{name}'; use one of "
                f"{', '.join(QTABLE_MODES)}"
            )
        table[name] = mode
    return table


def format_qtable(
    entries: Mapping[str, str],
    *,
    chip: str,
    sample_count: int,
    generated: datetime.datetime | None = None,
    comments: Sequence[str] = (),
) -> str:
    """The qtable text TPU-MLIR writes, header included (deterministic without a time)."""
    lines = []
    if generated is not None:
        lines.append(f"# generated time: {generated:%Y-%m-%d %H:%M:%S}")
    lines += [
        f"# sample number: {sample_count}",
        f"# chip: {chip}",
        f"# total layers: {len(entries)} (unique list blow)",
        *(f"# {c}" for c in comments),
        "###",
        "# op_name   quantize_mode",
    ]
    lines += [f"{name} {mode}" for name, mode in entries.items()]
    return "\n".join(lines) + "\n"


def write_qtable(path: Path, text: str) -> None:
    """Write qtable text atomically."""

    def fill(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    replace_atomically(Path(path), fill)
