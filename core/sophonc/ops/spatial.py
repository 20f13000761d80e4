"""Sliding-window arithmetic shared by Conv, ConvTranspose and the pools.

One :class:`Window` holds kernel, strides, dilations and explicit pads read (and
checked) from a node's attributes, so the shape rule and the kernel of an op agree on
every output size by construction. :func:`reduce_windows` is the pooling engine: a
window reduction that is separable (max, sum) runs axis by axis over
``sliding_window_view`` views, k + k passes instead of k * k for a 2-D window.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sophonc.ir.node import Node
from sophonc.ops.kernel_support import AnyArray
from sophonc.ops.shape_rules import attr_error, fmt, ints_attr, shape_error


@dataclass(frozen=True, slots=True)
class Window:
    """Kernel geometry over the spatial axes (every tuple has one entry per axis)."""

    kernel: tuple[int, ...]
    strides: tuple[int, ...]
    dilations: tuple[int, ...]
    pads_begin: tuple[int, ...]
    pads_end: tuple[int, ...]

    @property
    def extent(self) -> tuple[int, ...]:
        """Span of the dilated kernel on each axis: ``(k - 1) * d + 1``."""
        return tuple((k - 1) * d + 1 for k, d in zip(self.kernel, self.dilations, strict=True))

    def padded(self, spatial: Sequence[int]) -> tuple[int, ...]:
        """Spatial sizes after the explicit padding."""
        return tuple(
            s + b + e for s, b, e in zip(spatial, self.pads_begin, self.pads_end, strict=True)
        )


def read_window(node: Node, rank: int, kernel: Sequence[int] | None = None) -> Window:
    """The window attributes of ``node`` over ``rank`` spatial axes, checked."""
    ks = ints_attr(node, "kernel_shape", tuple(kernel) if kernel is not None else None)
    strides = ints_attr(node, "strides", (1,) * rank)
    dilations = ints_attr(node, "dilations", (1,) * rank)
    pads = ints_attr(node, "pads", (0,) * (2 * rank))
    for name, value, want in (
        ("kernel_shape", ks, rank),
        ("strides", strides, rank),
        ("dilations", dilations, rank),
        ("pads", pads, 2 * rank),
    ):
        if len(value) != want:
            raise shape_error(
                node,
                f"{name} {list(value)} has {len(value)} entries but the input's {rank} "
                f"spatial axes need {want}",
            )
    if any(v < 1 for v in (*ks, *strides, *dilations)):
        raise attr_error(node, "kernel_shape, strides and dilations must be positive")
    if any(p < 0 for p in pads):
        raise attr_error(node, f"pads {list(pads)} must not be negative")
    return Window(ks, strides, dilations, pads[:rank], pads[rank:])


def output_spatial(
    node: Node, window: Window, spatial: Sequence[int], ceil_mode: bool = False
) -> tuple[int, ...]:
    """Output sizes of a sliding window (floor, or ceil as the pools' ``ceil_mode``).

    In ceil mode a last window that would start inside the end padding only is
    dropped, as onnxruntime and PyTorch do.
    """
    out: list[int] = []
    for size, padded, ext, s, b in zip(
        spatial, window.padded(spatial), window.extent, window.strides, window.pads_begin,
        strict=True,
    ):  # fmt: skip
        span = padded - ext
        if span < 0:
            raise shape_error(
                node,
                f"the kernel (extent {list(window.extent)}) is larger than the padded input "
                f"{fmt(window.padded(spatial))}",
            )
        n = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (n - 1) * s >= size + b:
            n -= 1
        out.append(n)
    return tuple(out)


def pad_spatial(x: AnyArray, begin: Sequence[int], end: Sequence[int], value: Any = 0) -> AnyArray:
    """``x`` with its axes from 2 on padded by ``begin``/``end`` filled with ``value``.

    Only the border is filled, so the padded copy costs one pass over the input.
    """
    if not any(begin) and not any(end):
        return x
    sizes = x.shape[2:]
    shape = x.shape[:2] + tuple(s + b + e for s, b, e in zip(sizes, begin, end, strict=True))
    out = np.empty(shape, dtype=x.dtype)
    inner = tuple(slice(b, b + s) for b, s in zip(begin, sizes, strict=True))
    out[(slice(None), slice(None), *inner)] = x
    for j, (b, s) in enumerate(zip(begin, sizes, strict=True)):
        lead = (slice(None), slice(None), *inner[:j])
        out[(*lead, slice(0, b))] = value
        out[(*lead, slice(b + s, None))] = value
    return out


def tap_slices(
    offsets: Sequence[int], strides: Sequence[int], out: Sequence[int]
) -> tuple[slice, ...]:
    """Slices of a padded input that one kernel tap reads for every output position."""
    return tuple(
        slice(o, o + s * (n - 1) + 1, s) for o, s, n in zip(offsets, strides, out, strict=True)
    )


def reduce_windows(
    x: AnyArray,
    window: Window,
    out: Sequence[int],
    combine: Callable[..., object],
) -> AnyArray:
    """Reduce every window of an already padded ``x`` with a separable ``combine``.

    ``combine(acc, v, out=acc)`` is a ufunc such as ``np.maximum`` or ``np.add``;
    axes 0 and 1 are batch and channel, the rest spatial.
    """
    cur = x
    for j, (k, s, d, n) in enumerate(
        zip(window.kernel, window.strides, window.dilations, out, strict=True)
    ):
        axis = 2 + j
        views = sliding_window_view(cur, (k - 1) * d + 1, axis=axis)
        index: list[slice] = [slice(None)] * views.ndim
        index[axis] = slice(0, s * (n - 1) + 1, s)
        index[-1] = slice(None, None, d)
        taps = views[tuple(index)]
        acc = np.array(taps[..., 0], copy=True)
        for t in range(1, k):
            combine(acc, taps[..., t], out=acc)
        cur = acc
    return cur
