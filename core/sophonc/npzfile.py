"""``.npz`` archives: exact keys, all-or-nothing writes and one-line read errors.

Tensor names from TPU-MLIR look like ``/backbone/conv1/Conv_output_0_Conv``; they
must survive as archive keys unchanged, even when they clash with the keyword
arguments of ``np.savez`` (``file``, ``allow_pickle``). Files are written under a
temporary name beside the target and moved into place with ``os.replace``, so a
reader never sees half a file and a failed write leaves nothing behind.
"""

from __future__ import annotations

import os
import secrets
import zipfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sophonc.errors import SophonError

Arrays = dict[str, npt.NDArray[np.generic]]


def _new_temp_beside(path: Path) -> Path:
    """Create an empty, hidden file next to ``path`` (same file system, so
    ``os.replace`` is atomic), with the permissions the umask gives new files."""
    for _ in range(64):
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return tmp
    raise FileExistsError(f"no free temporary name beside '{path}'")


def replace_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Have ``write`` fill a temporary file, then move it onto ``path``.

    The parent folder is created when missing. Whatever ``write`` or the move
    raises propagates, and the temporary file is removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _new_temp_beside(path)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_npz_key(key: str) -> None:
    """ValueError for a key a zip archive cannot hold: zip member names are cut at
    the first NUL character and must encode as UTF-8 (no lone surrogates)."""
    if "\x00" in key:
        raise ValueError(f"npz key {key!r} contains a NUL character, which zip names cannot hold")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"npz key {key!r} is not valid Unicode (a lone surrogate?)") from None


def write_npz(path: Path, arrays: Mapping[str, npt.ArrayLike]) -> None:
    """Write an uncompressed ``.npz`` atomically, every key kept exactly.

    Entries are written one by one, as ``np.savez`` does, as ``<key>.npy`` members;
    object arrays are refused (``allow_pickle=False``) so the file can be read
    back without unpickling anything.
    """

    replace_atomically(Path(path), lambda tmp: fill_npz(tmp, arrays))


def fill_npz(path: Path, arrays: Mapping[str, npt.ArrayLike]) -> None:
    """Write the archive straight to ``path``, not atomically: the step inside
    :func:`write_npz`, for callers that move several files into place together."""
    for key in arrays:
        check_npz_key(key)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for key, value in arrays.items():
            with zf.open(f"{key}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asanyarray(value), allow_pickle=False)


def _one_line(exc: BaseException) -> str:
    """An exception's text folded onto one line (some numpy messages span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def read_npz(path: Path) -> Arrays:
    """Every array of an ``.npz`` file by key, in file order, never unpickling.

    A missing, unreadable or corrupt file (including a truncated one, a bare
    ``.npy`` or a pickle) raises a one-line :class:`SophonError` naming the file.
    """
    path = Path(path)
    if not path.is_file():
        raise SophonError(f"npz file '{path}' not found; check the path")
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an archive of named arrays")
        with loaded as data:
            return {key: np.asarray(data[key]) for key in data.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as exc:
        raise SophonError(
            f"cannot read '{path}' as an .npz file ({_one_line(exc)}); re-create it"
        ) from None
