"""Helpers shared by the converter modules: axes, spatial padding, constants."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sophonc.errors import ModelLoadError
from sophonc_frontend_onnx.onnx_node import OnnxNode


def norm_axis(node: OnnxNode, axis: int, rank: int) -> int:
    """``axis`` made non-negative; a clear error when it is out of range."""
    if not -rank <= axis < max(rank, 1):
        raise ModelLoadError(
            f"{node.op_type} node '{node.name}': axis {axis} is out of range for a "
            f"rank-{rank} tensor; the model is malformed"
        )
    return axis + rank if axis < 0 else axis


def norm_axes(node: OnnxNode, axes: Sequence[int], rank: int) -> tuple[int, ...]:
    """Every axis made non-negative."""
    return tuple(norm_axis(node, int(a), rank) for a in axes)


def int_list(data: np.ndarray | None) -> tuple[int, ...] | None:
    """A constant tensor as a tuple of Python ints (None stays None)."""
    if data is None:
        return None
    return tuple(int(v) for v in np.asarray(data).reshape(-1))


def spatial_pads(
    node: OnnxNode,
    in_spatial: Sequence[int],
    kernel: Sequence[int],
    strides: Sequence[int],
    dilations: Sequence[int],
) -> tuple[int, ...]:
    """Explicit ``pads`` (begin…, end…) of a Conv or pool, ``auto_pad`` resolved.

    SAME_* keeps ``ceil(in / stride)`` outputs; the odd unit of padding goes to the
    end for SAME_UPPER and to the beginning for SAME_LOWER, as ONNX specifies.
    """
    n = len(in_spatial)
    auto_pad = node.str("auto_pad", "NOTSET")
    if auto_pad in ("NOTSET", ""):
        pads = node.ints("pads", (0,) * (2 * n))
        assert pads is not None
        if len(pads) != 2 * n:
            raise ModelLoadError(
                f"{node.op_type} node '{node.name}': pads {list(pads)} should have "
                f"{2 * n} values; the model is malformed"
            )
        return pads
    if auto_pad == "VALID":
        return (0,) * (2 * n)
    if auto_pad not in ("SAME_UPPER", "SAME_LOWER"):
        raise ModelLoadError(
            f"{node.op_type} node '{node.name}': unknown auto_pad '{auto_pad}'; the model "
            f"is malformed"
        )
    begin: list[int] = []
    end: list[int] = []
    for size, k, s, d in zip(in_spatial, kernel, strides, dilations, strict=True):
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        small, big = total // 2, total - total // 2
        if auto_pad == "SAME_UPPER":
            begin.append(small)
            end.append(big)
        else:
            begin.append(big)
            end.append(small)
    return (*begin, *end)


def spatial_attrs(
    node: OnnxNode, x_shape: Sequence[int], kernel: Sequence[int]
) -> dict[str, tuple[int, ...]]:
    """strides, dilations and resolved pads of a Conv/pool over ``x_shape``'s spatial dims."""
    n = len(kernel)
    strides = node.ints("strides", (1,) * n)
    dilations = node.ints("dilations", (1,) * n)
    assert strides is not None and dilations is not None
    pads = spatial_pads(node, x_shape[2:], kernel, strides, dilations)
    return {"strides": strides, "dilations": dilations, "pads": pads}
