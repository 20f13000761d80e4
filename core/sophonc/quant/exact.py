"""Exact integer convolution and matrix products through float BLAS.

Integer products of int8/uint8 operands summed in floating point are exact as
long as every partial sum fits the float's mantissa: below 2^24 for f32, 2^53
for f64. The bound ``depth · max|a| · max|b|`` decides which float type is used
(f32 is about twice as fast), so results equal an int64 reference bit for bit
while running at BLAS speed. Conv geometry comes from the same core kernel the
F32 reference uses, so both agree on padding and strides by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from sophonc.ir.attrs import AttrValue
from sophonc.ir.node import Node
from sophonc.ops.registry import get_schema

Int64Array = npt.NDArray[np.int64]

_F32_EXACT = 1 << 24
_F64_EXACT = 1 << 53

#: Attributes of Conv/ConvTranspose that describe geometry (the rest is dropped).
GEOMETRY_ATTRS = (
    "kernel_shape", "strides", "pads", "dilations", "group", "output_padding",
)  # fmt: skip


def _max_abs(a: npt.NDArray[Any]) -> int:
    return max(abs(int(a.min())), abs(int(a.max()))) if a.size else 0


def exact_float_type(
    depth: int, a: npt.NDArray[Any], b: npt.NDArray[Any]
) -> type[np.floating[Any]]:
    """f32 when every partial sum of ``depth`` products is below 2^24, else f64."""
    bound = depth * _max_abs(a) * _max_abs(b)
    if bound < _F32_EXACT:
        return np.float32
    if bound < _F64_EXACT:
        return np.float64
    raise OverflowError(f"integer dot products up to {bound} are not exact in float64")


def _to_int64(y: npt.NDArray[Any]) -> Int64Array:
    # Every element is an exactly represented integer: the cast loses nothing.
    result: Int64Array = y.astype(np.int64)
    return result


def exact_conv(
    op_type: str,
    x: npt.NDArray[Any],
    w: npt.NDArray[Any],
    attrs: Mapping[str, AttrValue],
) -> Int64Array:
    """``op_type`` (Conv or ConvTranspose) of integer ``x`` and ``w``, exactly, as int64.

    No bias and no activation: callers add their integer bias and requantize.
    """
    geometry = {k: v for k, v in attrs.items() if k in GEOMETRY_ATTRS}
    node = Node(op_type, [], [], geometry)
    depth = int(np.prod(w.shape[1:])) * (int(w.shape[0]) if op_type == "ConvTranspose" else 1)
    ftype = exact_float_type(max(depth, 1), x, w)
    (y,) = get_schema(op_type).kernel(node, [x.astype(ftype), w.astype(ftype), None])
    return _to_int64(np.asarray(y))


def exact_matmul(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> Int64Array:
    """``a @ b`` (numpy matmul semantics) of integer operands, exactly, as int64."""
    depth = int(a.shape[-1]) if a.ndim else 1
    ftype = exact_float_type(max(depth, 1), a, b)
    return _to_int64(np.matmul(a.astype(ftype), b.astype(ftype)))
