"""The op registry: name -> (shape rule, numpy reference kernel).

The kernel is the definition of an op's F32 semantics; the reference interpreter,
constant folding and every backend test go through it. Plugins add ops through the
``sophon_register_ops`` hook, which hands them :func:`register_op`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from sophonc.errors import IRError
from sophonc.ir.node import Node
from sophonc.ir.types import TensorType

Array: TypeAlias = npt.NDArray[np.generic]
#: ``kernel(node, inputs) -> outputs``; omitted optional inputs arrive as None.
KernelFn: TypeAlias = Callable[[Node, Sequence[Array | None]], Sequence[Array]]
#: ``infer(node) -> output types`` from the input values' types and the attributes.
InferFn: TypeAlias = Callable[[Node], Sequence[TensorType]]


@dataclass(frozen=True, slots=True)
class OpSchema:
    """What core knows about one op type."""

    name: str
    kernel: KernelFn
    infer: InferFn
    doc: str = ""


_REGISTRY: dict[str, OpSchema] = {}


def register_op(
    name: str, infer: InferFn, *, replace: bool = False
) -> Callable[[KernelFn], KernelFn]:
    """Decorator registering ``kernel`` as the semantics of op ``name``."""

    def deco(kernel: KernelFn) -> KernelFn:
        if name in _REGISTRY and not replace:
            raise IRError(f"op '{name}' is registered twice")
        _REGISTRY[name] = OpSchema(name, kernel, infer, (kernel.__doc__ or "").strip())
        return kernel

    return deco


def get_schema(name: str) -> OpSchema:
    """The schema of ``name``; IRError naming the op when core does not know it."""
    _load_builtin_ops()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise IRError(
            f"op '{name}' is not a known sophonc op; register it with the sophon_register_ops hook"
        ) from None


def known_ops() -> list[str]:
    """Every registered op name, sorted."""
    _load_builtin_ops()
    return sorted(_REGISTRY)


_loaded = False


def _load_builtin_ops() -> None:
    """Register the built-in ops, then let hook plugins add theirs (once)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    import sophonc.ops.library  # noqa: F401  (registers the built-in ops)
    from sophonc.plugins.manager import hooks

    hooks().sophon_register_ops(register=register_op)
