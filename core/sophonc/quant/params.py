"""Quantization parameters: activation scales/zero points, weight and bias quantization.

These turn calibration thresholds and float weights into the scales and integers that
every backend's lowering starts from (BM1684X rules). Keeping them in
one place means all chips and quantizer plugins agree on the same numbers.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from sophonc.quant.requant import along_axis
from sophonc.quant.rounding import RoundMode, round_to_int, saturate, to_int8, to_uint8

#: Smallest per-channel weight scale TPU-MLIR allows (an all-zero channel gets it).
MIN_WEIGHT_SCALE = 1e-5


def symmetric_scale(threshold: float, signed: bool) -> float:
    """Symmetric activation scale: ``th/127`` for int8, ``th/255`` for uint8 (§3.2).

    On BM1684X/BM1684 a tensor whose calibrated minimum is >= 0 is stored unsigned and
    so gets the full 0…255 range; CV18xx always passes ``signed=True``.
    """
    th = float(threshold)
    if not th > 0 or not math.isfinite(th):
        raise ValueError(f"quantization threshold must be positive and finite, got {th}")
    return th / 127.0 if signed else th / 255.0


class AsymmetricParams(NamedTuple):
    """Scale, zero point and storage range of an asymmetrically quantized tensor."""

    scale: float
    zero_point: int
    qmin: int
    qmax: int

    @property
    def signed(self) -> bool:
        """Whether the storage is int8 (else uint8)."""
        return self.qmin < 0

    @property
    def nudged_min(self) -> float:
        """The real value of ``qmin``: the calibrated minimum after nudging."""
        return (self.qmin - self.zero_point) * self.scale

    @property
    def nudged_max(self) -> float:
        """The real value of ``qmax``: the calibrated maximum after nudging."""
        return (self.qmax - self.zero_point) * self.scale


def asymmetric_params(
    min_val: float, max_val: float, qmin: int | None = None, qmax: int | None = None
) -> AsymmetricParams:
    """TFLite-style asymmetric scale and nudged zero point (``--asymmetric``, §3.2).

    The storage is int8 (-128…127) when ``min_val < 0`` else uint8 (0…255), unless
    ``qmin``/``qmax`` are given. Steps:

    1. widen the range to contain 0: ``lo = min(min_val, 0)``, ``hi = max(max_val, 0)``,
       so that real zero (padding, ReLU output) is representable;
    2. ``scale = (hi - lo) / (qmax - qmin)``;
    3. the real-valued zero point ``qmin - lo/scale`` is rounded half away from zero
       and clamped to ``[qmin, qmax]``: that is the nudge, which makes real 0 map to an
       integer code exactly and shifts the represented range ``[nudged_min,
       nudged_max]`` by less than half a step.

    A range that is only zero (``lo == hi``) has no natural scale; it gets scale 1 and
    zero point ``qmin``, which still represents 0 exactly.
    """
    lo, hi = min(float(min_val), 0.0), max(float(max_val), 0.0)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise ValueError(f"asymmetric range must be finite, got [{min_val}, {max_val}]")
    if qmin is None or qmax is None:
        qmin, qmax = (-128, 127) if float(min_val) < 0 else (0, 255)
    if qmax <= qmin:
        raise ValueError(f"empty quantized range [{qmin}, {qmax}]")
    if hi == lo:
        return AsymmetricParams(1.0, qmin, qmin, qmax)
    scale = (hi - lo) / (qmax - qmin)
    zero_real = qmin - lo / scale
    zero_point = int(np.clip(round_to_int(zero_real, RoundMode.HALF_AWAY_FROM_ZERO), qmin, qmax))
    return AsymmetricParams(scale, zero_point, qmin, qmax)


class QuantizedWeight(NamedTuple):
    """Per-channel quantized weights: codes, one scale per channel, storage sign."""

    values: npt.NDArray[np.integer[Any]]
    scales: npt.NDArray[np.float64]
    signed: bool


def quantize_weight_per_channel(
    w: npt.ArrayLike, axis: int = 0, has_bias: bool = False
) -> QuantizedWeight:
    """BM1684X Conv/MatMul weight quantization, one scale per slice along ``axis`` (§3.3).

    ``fsign = min(W) < 0 or has_bias`` (minimum over the whole tensor). Per channel
    ``scale = max(max|W[c]| / (127 if fsign else 255), 1e-5)`` and
    ``Wq = round(W[c] / scale)`` half away from zero, clamped. With ``fsign`` the codes
    are int8; otherwise every weight is >= 0 and the codes use the uint8 range 0…255,
    so they are returned as uint8 (an int8 clamp would cut them at 127). Math in
    float64.
    """
    wf = np.asarray(w, dtype=np.float64)
    if wf.size == 0:
        raise ValueError("cannot quantize an empty weight")
    if not np.isfinite(wf).all():
        raise ValueError("weights contain inf or NaN")
    ax = axis % wf.ndim
    fsign = bool(has_bias or wf.min() < 0)
    others = tuple(i for i in range(wf.ndim) if i != ax)
    w_max = np.abs(wf).max(axis=others)
    scales = np.maximum(w_max / (127.0 if fsign else 255.0), MIN_WEIGHT_SCALE)
    ratio = wf / along_axis(scales, wf.ndim, ax).astype(np.float64)
    values = to_int8(ratio) if fsign else to_uint8(ratio)
    return QuantizedWeight(values, scales.astype(np.float64), fsign)


def quantize_bias(
    b: npt.ArrayLike,
    w_scale: npt.ArrayLike,
    in_scale: float,
    w_q_sum: npt.ArrayLike | None = None,
    in_zp: int = 0,
) -> npt.NDArray[np.int32]:
    """Int32 bias ``round(b / (w_scale·in_scale) - sum(Wq[c])·in_zp)`` (§3.3).

    ``w_scale`` is per channel (or a scalar); ``w_q_sum`` is the per-channel sum of the
    quantized weights, needed only for an asymmetric input (``in_zp != 0``), where it
    folds the zero-point correction into the bias. Rounded like C ``std::round`` (half
    away from zero) and saturated to int32.
    """
    real = np.asarray(b, dtype=np.float64) / (
        np.asarray(w_scale, dtype=np.float64) * float(in_scale)
    )
    if w_q_sum is not None and in_zp != 0:
        real = real - np.asarray(w_q_sum, dtype=np.float64) * in_zp
    codes = saturate(round_to_int(real, RoundMode.HALF_AWAY_FROM_ZERO), "i32")
    return codes.astype(np.int32)
