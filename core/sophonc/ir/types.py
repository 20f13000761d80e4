"""Tensor and quantized types attached to IR values.

Shapes are static: dynamic dimensions of a framework model are fixed by the user
(``--input_shapes``) before import, so every dimension is a plain ``int``. A shape
of ``None`` means "not inferred yet".
"""

from __future__ import annotations

from dataclasses import dataclass

import ml_dtypes
import numpy as np
import numpy.typing as npt

#: IR dtype name -> numpy dtype. The names are the ones the text form prints.
DTYPES: dict[str, npt.DTypeLike] = {
    "f64": np.float64,
    "f32": np.float32,
    "f16": np.float16,
    "bf16": ml_dtypes.bfloat16,
    "i64": np.int64,
    "i32": np.int32,
    "i16": np.int16,
    "i8": np.int8,
    "u32": np.uint32,
    "u16": np.uint16,
    "u8": np.uint8,
    "bool": np.bool_,
}

_BY_NUMPY: dict[np.dtype[np.generic], str] = {np.dtype(v): k for k, v in DTYPES.items()}


def numpy_dtype(name: str) -> np.dtype[np.generic]:
    """The numpy dtype of an IR dtype name."""
    try:
        return np.dtype(DTYPES[name])
    except KeyError:
        raise ValueError(f"unknown IR dtype '{name}'") from None


def dtype_name(dtype: npt.DTypeLike) -> str:
    """The IR dtype name of a numpy dtype."""
    dt = np.dtype(dtype)
    try:
        return _BY_NUMPY[dt]
    except KeyError:
        raise ValueError(f"numpy dtype {dt} has no IR equivalent") from None


@dataclass(frozen=True, slots=True)
class TensorType:
    """Element type and static shape of a tensor (``shape`` None until inferred)."""

    dtype: str
    shape: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.dtype not in DTYPES:
            raise ValueError(f"unknown IR dtype '{self.dtype}'")

    @property
    def rank(self) -> int:
        """Number of dimensions; fails when the shape is not known yet."""
        if self.shape is None:
            raise ValueError("shape not inferred")
        return len(self.shape)

    @property
    def numel(self) -> int:
        """Number of elements; fails when the shape is not known yet."""
        if self.shape is None:
            raise ValueError("shape not inferred")
        return int(np.prod(self.shape, dtype=np.int64))

    def with_shape(self, shape: tuple[int, ...]) -> TensorType:
        """The same dtype with another shape."""
        return TensorType(self.dtype, tuple(int(d) for d in shape))

    def with_dtype(self, dtype: str) -> TensorType:
        """The same shape with another dtype."""
        return TensorType(dtype, self.shape)


@dataclass(frozen=True, slots=True)
class QuantType:
    """How a tensor's real values map onto integer storage.

    ``real = scale * (q - zero_point)``. Per-tensor quantization has one scale and
    zero point and ``axis`` None; per-channel has one per index of ``axis``. The
    calibrated range (``min``/``max``/``threshold``) is kept so later stages can
    re-derive parameters without the calibration table.
    """

    storage: str
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    axis: int | None = None
    qmin: int = -128
    qmax: int = 127
    expressed: str = "f32"

    def __post_init__(self) -> None:
        if self.storage not in DTYPES:
            raise ValueError(f"unknown storage dtype '{self.storage}'")
        if len(self.scale) != len(self.zero_point):
            raise ValueError("scale and zero_point must have the same length")
        if self.axis is None and len(self.scale) != 1:
            raise ValueError("per-tensor quantization takes exactly one scale")
        if self.qmin > self.qmax:
            raise ValueError("qmin must not exceed qmax")

    @property
    def per_channel(self) -> bool:
        """Whether each index of ``axis`` has its own scale."""
        return self.axis is not None
