"""Flag parsing shared by the commands, and all-or-nothing output files.

TPU-MLIR's flags are strings (``[[1,3,640,640]]``, ``0.0,0.0,0.0``); they are
parsed here, inside the commands, so a malformed value becomes a one-line
:class:`SophonError` instead of a multi-line usage screen. :class:`OutputFiles`
writes every file through a temporary name and ``os.replace`` and deletes what
the run wrote when it fails, so a failed command never leaves a file behind.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

import numpy.typing as npt

from sophonc.errors import ShapeError, SophonError
from sophonc.npzfile import write_npz


def parse_shapes(text: str | None) -> list[list[int]]:
    """``[[1,3,640,640],[1,10]]`` or ``[1,3,640,640]`` → one list per input."""
    if text is None or not text.strip():
        return []
    hint = "write one list per input, e.g. [[1,3,640,640]] or [[1,3,224,224],[1,10]]"
    try:
        value = ast.literal_eval(text.strip().replace(" ", ""))
    except (ValueError, SyntaxError):
        raise ShapeError(f"--input_shapes '{text}' is not a list of shapes; {hint}") from None
    if isinstance(value, int):
        value = [value]
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list) and value and all(isinstance(d, int) for d in value):
        value = [value]
    if not isinstance(value, list) or not all(
        isinstance(s, list | tuple) and all(isinstance(d, int) for d in s) for s in value
    ):
        raise ShapeError(f"--input_shapes '{text}' is not a list of shapes; {hint}")
    return [list(s) for s in value]


def parse_floats(flag: str, text: str | None) -> tuple[float, ...] | None:
    """``0.0,0.0,0.0`` (brackets allowed) → floats; None when not given."""
    if text is None:
        return None
    parts = [p for p in text.strip().strip("[]").replace(" ", "").split(",") if p]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if not values:
        raise SophonError(f"--{flag} '{text}' must be comma-separated numbers, e.g. 0,0,0")
    return values


def parse_dims(flag: str, text: str | None) -> tuple[int, int] | None:
    """``h,w`` → (h, w); None when not given."""
    values = parse_floats(flag, text)
    if values is None:
        return None
    if len(values) != 2 or any(v <= 0 or v != int(v) for v in values):
        raise SophonError(f"--{flag} '{text}' must be two positive integers h,w, e.g. 640,640")
    return int(values[0]), int(values[1])


def parse_names(text: str | None) -> list[str]:
    """A comma list of names (``a,b``); empty for None or ``-``."""
    if text is None:
        return []
    return [s.strip() for s in text.split(",") if s.strip() and s.strip() != "-"]


class OutputFiles:
    """The files one command run writes; on failure they are all removed.

    Use as a context manager. Files that existed before the run are replaced
    atomically only when written, and are removed on failure only if this run
    replaced them (their old content is gone by then either way).
    """

    def __init__(self, *, keep_on_error: bool = False) -> None:
        self.written: list[Path] = []
        self.keep_on_error = keep_on_error

    def __enter__(self) -> OutputFiles:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None and not self.keep_on_error:
            self.rollback()

    def record(self, path: Path) -> Path:
        """Note that ``path`` belongs to this run (written by someone else's writer)."""
        path = Path(path)
        if path not in self.written:
            self.written.append(path)
        return path

    def npz(self, path: Path, arrays: Mapping[str, npt.ArrayLike]) -> Path:
        """Write ``arrays`` to ``path`` atomically and record it."""
        write_npz(path, arrays)
        return self.record(path)

    def rollback(self) -> None:
        """Delete every file this run wrote."""
        for p in reversed(self.written):
            p.unlink(missing_ok=True)
        self.written.clear()


def echo_err(message: str) -> None:
    """A progress line on stderr (stdout stays for results)."""
    import click

    click.echo(message, err=True)


#: A step runner: ``step("loading model")`` prints a numbered progress line.
StepPrinter = Callable[[str], None]


def step_printer(total: int) -> StepPrinter:
    """Numbered ``[i/total] what`` lines on stderr for the long steps of a command
    (``[i] what`` for a step beyond ``total``: one taken only when needed)."""
    count = [0]

    def step(what: str) -> None:
        count[0] += 1
        label = f"{count[0]}/{total}" if count[0] <= total else str(count[0])
        echo_err(f"[{label}] {what}")

    return step
