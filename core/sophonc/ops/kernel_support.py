"""What every numpy kernel needs: typed inputs, the fused ReLU, and op definition.

:func:`define_op` registers a kernel through :func:`register_op` after wrapping it
so that floating-point warnings (overflow in ``exp``, division by zero) stay silent,
as they are in every inference runtime, and so that numpy scalars coming out of full
reductions are returned as 0-d arrays: every value in the interpreter is an ndarray.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from sophonc.errors import IRError
from sophonc.ir.node import Node
from sophonc.ops.registry import Array, InferFn, KernelFn, register_op

#: Kernels compute on arrays of any dtype; numpy's stubs need ``Any`` for arithmetic.
AnyArray: TypeAlias = npt.NDArray[Any]
TypedKernel: TypeAlias = Callable[[Node, Sequence[Array | None]], Sequence[AnyArray]]


def opt_arg(inputs: Sequence[Array | None], index: int) -> AnyArray | None:
    """Input ``index`` as an array, None when omitted or beyond the given inputs."""
    if index >= len(inputs):
        return None
    x = inputs[index]
    return None if x is None else np.asarray(x)


def arg(inputs: Sequence[Array | None], index: int) -> AnyArray:
    """Required input ``index`` as an array."""
    x = opt_arg(inputs, index)
    if x is None:
        raise IRError(f"kernel input {index} is required but omitted")
    return x


def given_args(inputs: Sequence[Array | None]) -> list[AnyArray]:
    """Every input that is not omitted (variadic ops)."""
    return [np.asarray(x) for x in inputs if x is not None]


def fused_relu(node: Node, y: AnyArray) -> AnyArray:
    """Apply the fused ``do_relu``/``relu_limit`` activation to ``y`` in place.

    ``y`` must be a buffer the calling kernel allocated (never a view of an input).
    A negative ``relu_limit`` (the default -1) means no upper bound.
    """
    if not node.attrs.get("do_relu", False):
        return y
    limit = float(node.attrs.get("relu_limit", -1.0))  # type: ignore[arg-type]
    zero = y.dtype.type(0)
    if limit < 0:
        np.maximum(y, zero, out=y)
    else:
        np.clip(y, zero, y.dtype.type(limit), out=y)
    return y


def define_op(name: str, infer: InferFn) -> Callable[[TypedKernel], KernelFn]:
    """Register the decorated kernel as op ``name`` with shape rule ``infer``."""

    def deco(kernel: TypedKernel) -> KernelFn:
        @functools.wraps(kernel)
        def run(node: Node, inputs: Sequence[Array | None]) -> Sequence[Array]:
            with np.errstate(all="ignore"):
                results = kernel(node, inputs)
            return [r if isinstance(r, np.ndarray) else np.asarray(r) for r in results]

        register_op(name, infer)(run)
        return run

    return deco
