"""Loop-by-loop reference implementations written straight from the ONNX definitions.

Deliberately the slowest, most literal form (one Python loop per output element and
kernel tap, float64 accumulation) so that the fast numpy kernels are checked
against arithmetic that shares none of their tricks: no padding copies, no
im2col, no sliding-window views, no shifted slices.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np


def _positions(shape: Sequence[int]) -> itertools.product[tuple[int, ...]]:
    return itertools.product(*(range(n) for n in shape))


def conv(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    group: int,
) -> np.ndarray:
    """ONNX Conv: y[n, o, p] = b[o] + sum over c, t of x[n, c, p*s + t*d - pad] * w[o, c, t]."""
    n, c = x.shape[:2]
    r = x.ndim - 2
    cout = w.shape[0]
    cin_g, cout_g = c // group, cout // group
    k = w.shape[2:]
    out = [
        (x.shape[2 + i] + pads[i] + pads[i + r] - dilations[i] * (k[i] - 1) - 1) // strides[i] + 1
        for i in range(r)
    ]
    y = np.zeros((n, cout, *out))
    for bn, oc in itertools.product(range(n), range(cout)):
        g = oc // cout_g
        for pos in _positions(out):
            acc = 0.0 if b is None else float(b[oc])
            for ic in range(cin_g):
                for tap in _positions(k):
                    src = [pos[i] * strides[i] + tap[i] * dilations[i] - pads[i] for i in range(r)]
                    if all(0 <= src[i] < x.shape[2 + i] for i in range(r)):
                        acc += float(x[(bn, g * cin_g + ic, *src)]) * float(w[(oc, ic, *tap)])
            y[(bn, oc, *pos)] = acc
    return y


def conv_transpose(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    output_padding: Sequence[int],
    group: int,
) -> np.ndarray:
    """ONNX ConvTranspose as a scatter: x[n, c, p] * w[c, o, t] lands on p*s + t*d - pad."""
    n, c = x.shape[:2]
    r = x.ndim - 2
    cin_g, cout_g = c // group, w.shape[1]
    k = w.shape[2:]
    out = [
        strides[i] * (x.shape[2 + i] - 1)
        + output_padding[i]
        + (k[i] - 1) * dilations[i]
        + 1
        - pads[i]
        - pads[i + r]
        for i in range(r)
    ]
    y = np.zeros((n, cout_g * group, *out))
    if b is not None:
        y += b.reshape((-1,) + (1,) * r)
    for bn, ic in itertools.product(range(n), range(c)):
        g = ic // cin_g
        for pos in _positions(x.shape[2:]):
            for oc, tap in itertools.product(range(cout_g), _positions(k)):
                dst = [pos[i] * strides[i] + tap[i] * dilations[i] - pads[i] for i in range(r)]
                if all(0 <= dst[i] < out[i] for i in range(r)):
                    y[(bn, g * cout_g + oc, *dst)] += float(x[(bn, ic, *pos)]) * float(
                        w[(ic, oc, *tap)]
                    )
    return y


def pool(
    x: np.ndarray,
    kind: str,
    kernel: Sequence[int],
    strides: Sequence[int],
    pads: Sequence[int],
    dilations: Sequence[int],
    ceil_mode: bool,
    count_include_pad: bool = False,
) -> np.ndarray:
    """MaxPool / AveragePool by visiting every window tap.

    Output size: floor (or ceil) of ``(in + pads - extent) / stride`` + 1; in ceil
    mode a window starting beyond the input and the begin padding is dropped. The
    average divides by the taps inside the input, or with ``count_include_pad``
    inside the explicitly padded extent.
    """
    r = x.ndim - 2
    out: list[int] = []
    for i in range(r):
        size, s = x.shape[2 + i], strides[i]
        span = size + pads[i] + pads[i + r] - (dilations[i] * (kernel[i] - 1) + 1)
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= size + pads[i]:
            o -= 1
        out.append(o)
    y = np.zeros((*x.shape[:2], *out))
    for bn, ch in itertools.product(range(x.shape[0]), range(x.shape[1])):
        for pos in _positions(out):
            values: list[float] = []
            counted = 0
            for tap in _positions(kernel):
                src = [pos[i] * strides[i] + tap[i] * dilations[i] - pads[i] for i in range(r)]
                inside = all(0 <= src[i] < x.shape[2 + i] for i in range(r))
                in_pads = all(-pads[i] <= src[i] < x.shape[2 + i] + pads[i + r] for i in range(r))
                if inside:
                    values.append(float(x[(bn, ch, *src)]))
                if inside or (count_include_pad and in_pads):
                    counted += 1
            y[(bn, ch, *pos)] = max(values) if kind == "max" else sum(values) / counted
    return y
