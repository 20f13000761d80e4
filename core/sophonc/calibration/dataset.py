"""Which calibration samples are used, chosen exactly as TPU-MLIR chooses them.

``--dataset DIR``: every file under ``DIR`` (recursively) whose path ends in one of
the sample extensions, matched without regard to case on the text after the path's
last dot, as TPU-MLIR matches it; the paths are sorted as strings, shuffled with
Python's ``random`` seeded with 1684, and the first ``input_num`` kept (0 = all).
The shuffle uses a private ``random.Random(1684)``: the same generator and sequence
as ``random.seed(1684); random.shuffle(...)``, without touching the global state.

``--data_list FILE``: one sample a line, the inputs of a multi-input model separated
by commas; ``input_num > 0`` keeps the first lines.

All samples must be of one kind (images, ``.npy``, ``.npz`` or ``.yuv``).
"""

from __future__ import annotations

import os
import random
from collections.abc import Sequence
from pathlib import Path

from sophonc.errors import SophonError

SELECTION_SEED = 1684
IMAGE_EXTENSIONS = ("jpg", "bmp", "png", "jpeg", "jfif")
KIND_OF_EXTENSION = {
    **dict.fromkeys(IMAGE_EXTENSIONS, "image"),
    "npy": "npy",
    "npz": "npz",
    "yuv": "yuv",
}
ACCEPTED = "images (.jpg .jpeg .png .bmp .jfif), .npy, .npz or .yuv files"


def sample_kind(path: str | os.PathLike[str]) -> str | None:
    """``image``, ``npy``, ``npz`` or ``yuv`` from the text after the last dot (any case)."""
    return KIND_OF_EXTENSION.get(str(path).lower().split(".")[-1])


def _check_one_kind(samples: Sequence[tuple[Path, ...]], where: str) -> None:
    first_of_kind: dict[str, Path] = {}
    for sample in samples:
        for path in sample:
            kind = sample_kind(path)
            if kind is not None:
                first_of_kind.setdefault(kind, path)
    if len(first_of_kind) > 1:
        examples = ", ".join(f"{kind}: {path}" for kind, path in first_of_kind.items())
        raise SophonError(
            f"{where} mixes sample kinds ({examples}): use one kind of sample, as TPU-MLIR requires"
        )


def _check_count(input_num: int) -> None:
    if input_num < 0:
        raise SophonError(f"--input_num must be 0 (all samples) or positive, got {input_num}")


def select_dataset(directory: str | os.PathLike[str], input_num: int = 0) -> list[Path]:
    """The sample files of ``directory`` in TPU-MLIR's order, the first ``input_num`` (0 = all)."""
    _check_count(input_num)
    folder = Path(directory)
    if not folder.is_dir():
        raise SophonError(f"dataset folder {folder} does not exist or is not a folder")
    found = sorted(
        str(path) for path in folder.glob("**/*") if path.is_file() and sample_kind(path)
    )
    if not found:
        raise SophonError(
            f"dataset folder {folder} holds no calibration samples: expected {ACCEPTED}"
        )
    random.Random(SELECTION_SEED).shuffle(found)
    chosen = [Path(name) for name in (found[:input_num] if input_num > 0 else found)]
    _check_one_kind([(path,) for path in chosen], f"dataset folder {folder}")
    return chosen


def read_data_list(list_file: str | os.PathLike[str], input_num: int = 0) -> list[tuple[Path, ...]]:
    """The samples of a ``--data_list`` file: one tuple of input paths per non-blank line.

    A line ending in ``.npz`` is one sample file whatever it contains; other lines are
    split at commas. Only the first ``input_num`` lines (0 = all) are read and checked.
    """
    _check_count(input_num)
    file = Path(list_file)
    if not file.is_file():
        raise SophonError(f"data list {file} not found")
    lines = [
        (number, raw.strip())
        for number, raw in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1)
        if raw.strip()
    ]
    if input_num > 0:
        lines = lines[:input_num]
    samples: list[tuple[Path, ...]] = []
    for number, line in lines:
        parts = (line,) if sample_kind(line) == "npz" else tuple(p.strip() for p in line.split(","))
        for part in parts:
            if sample_kind(part) is None:
                raise SophonError(
                    f"data list {file} line {number}: '{part}' is not one of the sample kinds: "
                    f"{ACCEPTED}"
                )
        samples.append(tuple(Path(part) for part in parts))
    if not samples:
        raise SophonError(f"data list {file} names no samples")
    _check_one_kind(samples, f"data list {file}")
    return samples
