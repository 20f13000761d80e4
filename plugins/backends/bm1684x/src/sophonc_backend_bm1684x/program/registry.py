"""Chip op kernels by op type: the one definition of each op's chip arithmetic.

The program interpreter and the bmodel simulator both call these, so the
simulator is bit-exact with the interpreted program by construction, and an
instruction-level simulator can later reuse the same small functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from sophonc.errors import IRError
from sophonc.ir.node import Node

Array: TypeAlias = npt.NDArray[Any]
ChipKernel: TypeAlias = Callable[[Node, Sequence[Array | None]], Sequence[Array]]

_KERNELS: dict[str, ChipKernel] = {}


def chip_op(name: str) -> Callable[[ChipKernel], ChipKernel]:
    """Register ``kernel`` as the arithmetic of chip op ``name``."""

    def deco(kernel: ChipKernel) -> ChipKernel:
        if name in _KERNELS:
            raise IRError(f"chip op '{name}' is registered twice")
        _KERNELS[name] = kernel
        return kernel

    return deco


def chip_kernel(name: str) -> ChipKernel:
    """The kernel of chip op ``name``; IRError for an op this chip does not have."""
    _load()
    try:
        return _KERNELS[name]
    except KeyError:
        raise IRError(f"'{name}' is not a BM1684X program op") from None


def chip_ops() -> list[str]:
    """Every chip op name, sorted."""
    _load()
    return sorted(_KERNELS)


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import sophonc_backend_bm1684x.program.kernels  # noqa: F401  (registers them)


def as_f32(x: Array) -> npt.NDArray[np.float32]:
    """A float array (f16, bf16 or f32) widened to f32 for computation."""
    return np.asarray(x, dtype=np.float32)
