"""Image preprocessing exactly as TPU-MLIR's ``model_transform`` does it.

The configuration lives on each image-like graph input (``Value.meta``), like the
attributes of TPU-MLIR's ``top.Input`` op, so every later stage (test input,
calibration, ``sophon run`` on pictures) turns a picture into the same tensor the
model was validated with. The order of operations matters for the numbers and is
kept step for step: OpenCV read (BGR) → resize / letterbox / short-side scale →
HWC→CHW → centre crop → float32 → channel swap → ``(x - mean) * scale`` → NHWC
transpose → batch repeat.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from sophonc.errors import ShapeError, SophonError
from sophonc.ir.attrs import AttrValue

PIXEL_FORMATS = ("rgb", "bgr", "gray", "rgba")
CHANNEL_FORMATS = ("nchw", "nhwc", "none")
KEEP_RATIO_MODES = ("letterbox", "short_side_scale")
PAD_TYPES = ("center", "normal")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")

#: Value.meta keys written by :meth:`PreprocessConfig.to_meta` (TPU-MLIR's names).
META_KEYS = (
    "pixel_format",
    "channel_format",
    "resize_dims",
    "keep_aspect_ratio",
    "keep_ratio_mode",
    "pad_value",
    "pad_type",
    "mean",
    "scale",
)


def _choice(flag: str, value: str, allowed: Sequence[str]) -> str:
    low = value.lower()
    if low not in allowed:
        raise SophonError(f"--{flag} '{value}' is not supported; use one of {', '.join(allowed)}")
    return low


@dataclass(frozen=True)
class PreprocessConfig:
    """TPU-MLIR's preprocessing options, with its defaults.

    ``resize_dims`` of None means "the net input's H,W" and is resolved when the
    config is attached to an input. ``mean`` and ``scale`` are per channel in the
    model's channel order (after the BGR→RGB swap); ``scale`` multiplies.
    """

    resize_dims: tuple[int, int] | None = None
    keep_aspect_ratio: bool = False
    keep_ratio_mode: str = "letterbox"
    mean: tuple[float, ...] = field(default=(0.0, 0.0, 0.0))
    scale: tuple[float, ...] = field(default=(1.0, 1.0, 1.0))
    pixel_format: str = "bgr"
    channel_format: str = "nchw"
    pad_value: int = 0
    pad_type: str = "center"

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "pixel_format", _choice("pixel_format", self.pixel_format, PIXEL_FORMATS)
        )
        object.__setattr__(
            self, "channel_format", _choice("channel_format", self.channel_format, CHANNEL_FORMATS)
        )
        object.__setattr__(
            self,
            "keep_ratio_mode",
            _choice("keep_ratio_mode", self.keep_ratio_mode, KEEP_RATIO_MODES),
        )
        object.__setattr__(self, "pad_type", _choice("pad_type", self.pad_type, PAD_TYPES))
        object.__setattr__(self, "mean", tuple(float(m) for m in self.mean))
        object.__setattr__(self, "scale", tuple(float(s) for s in self.scale))
        if not self.mean or not self.scale:
            raise SophonError("--mean and --scale need at least one value each")
        if self.resize_dims is not None:
            dims = tuple(int(d) for d in self.resize_dims)
            if len(dims) != 2 or min(dims) <= 0:
                raise SophonError(
                    f"--resize_dims {list(self.resize_dims)} must be two positive numbers h,w"
                )
            object.__setattr__(self, "resize_dims", dims)

    @property
    def channels(self) -> int:
        """How many channels a picture has in this pixel format."""
        return {"gray": 1, "rgba": 4}.get(self.pixel_format, 3)

    def to_meta(self) -> dict[str, AttrValue]:
        """The attributes stored on a graph input (``resize_dims`` () = net dims)."""
        return {
            "pixel_format": self.pixel_format,
            "channel_format": self.channel_format,
            "resize_dims": tuple(self.resize_dims) if self.resize_dims else (),
            "keep_aspect_ratio": self.keep_aspect_ratio,
            "keep_ratio_mode": self.keep_ratio_mode,
            "pad_value": self.pad_value,
            "pad_type": self.pad_type,
            "mean": tuple(self.mean),
            "scale": tuple(self.scale),
        }

    @classmethod
    def from_meta(cls, meta: Mapping[str, AttrValue]) -> PreprocessConfig | None:
        """Rebuild the config from an input's meta; None if the input has none."""
        if "pixel_format" not in meta:
            return None
        dims = meta.get("resize_dims", ())
        resize: tuple[int, int] | None = None
        if isinstance(dims, tuple) and len(dims) == 2:
            resize = (int(dims[0]), int(dims[1]))
        return cls(
            resize_dims=resize,
            keep_aspect_ratio=bool(meta.get("keep_aspect_ratio", False)),
            keep_ratio_mode=str(meta.get("keep_ratio_mode", "letterbox")),
            mean=_floats(meta.get("mean", (0.0,))),
            scale=_floats(meta.get("scale", (1.0,))),
            pixel_format=str(meta["pixel_format"]),
            channel_format=str(meta.get("channel_format", "nchw")),
            pad_value=_int(meta.get("pad_value", 0)),
            pad_type=str(meta.get("pad_type", "center")),
        )

    def resolved(self, input_shape: Sequence[int]) -> PreprocessConfig:
        """A copy whose ``resize_dims`` is filled in with the net dims when unset."""
        if self.resize_dims is not None:
            return self
        h, w = net_dims(input_shape, self.channel_format)
        return PreprocessConfig(**{**self.__dict__, "resize_dims": (h, w)})


def _int(value: AttrValue) -> int:
    return int(value) if isinstance(value, int | float) else 0


def _floats(value: AttrValue) -> tuple[float, ...]:
    if isinstance(value, tuple):
        return tuple(float(v) for v in value)
    return (float(str(value)),)


def is_image_input(shape: Sequence[int], channel_format: str) -> bool:
    """TPU-MLIR's rule: preprocess attributes go on 3-D inputs and 4-D ones with C ≤ 4."""
    if channel_format == "none":
        return False
    if len(shape) == 3:
        return True
    if len(shape) == 4:
        c = shape[1] if channel_format == "nchw" else shape[3]
        return c <= 4
    return False


def _layout(shape: Sequence[int], channel_format: str) -> tuple[int | None, int, int, int]:
    """(batch or None for 3-D, C, H, W) of an image input."""
    dims = [int(d) for d in shape]
    if len(dims) == 4:
        if channel_format == "nhwc":
            return dims[0], dims[3], dims[1], dims[2]
        return dims[0], dims[1], dims[2], dims[3]
    if len(dims) == 3:
        if channel_format == "nhwc":
            return None, dims[2], dims[0], dims[1]
        return None, dims[0], dims[1], dims[2]
    raise ShapeError(f"an image input must be 3-D or 4-D, not {dims}; use --channel_format none")


def net_dims(shape: Sequence[int], channel_format: str) -> tuple[int, int]:
    """The (H, W) a picture must end up with for an input of ``shape``."""
    _, _, h, w = _layout(shape, channel_format)
    return h, w


def _per_channel(name: str, values: tuple[float, ...], channels: int) -> npt.NDArray[np.float32]:
    if len(values) >= channels:
        picked = values[:channels]
    elif len(values) == 1 or len(set(values)) == 1:
        picked = (values[0],) * channels
    else:
        raise SophonError(
            f"--{name} has {len(values)} values but the pixel format has {channels} channels; "
            f"give {channels} comma-separated values"
        )
    return np.asarray(picked, dtype=np.float32).reshape(channels, 1, 1)


def read_image(path: Path, pixel_format: str) -> npt.NDArray[np.uint8]:
    """Read a picture as HWC uint8: BGR for rgb/bgr, 1 channel for gray, RGBA for rgba."""
    path = Path(path)
    if not path.is_file():
        raise SophonError(f"image '{path}' not found; check the path")
    if pixel_format == "gray":
        img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    elif pixel_format == "rgba":
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    else:
        img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SophonError(f"OpenCV cannot decode image '{path}'; give a .jpg, .png or .bmp file")
    if pixel_format == "rgba":
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2RGBA)
        elif img.shape[2] == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGBA)
        else:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    if img.ndim == 2:
        img = img[:, :, None]
    return np.ascontiguousarray(img, dtype=np.uint8)


def _resize(img: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """cv2.resize (bilinear) that keeps the channel axis of 1-channel pictures."""
    out = np.asarray(cv2.resize(img, (width, height)), dtype=np.uint8)
    return out[:, :, None] if out.ndim == 2 else out


def resize_image(img: npt.NDArray[np.uint8], config: PreprocessConfig) -> npt.NDArray[np.generic]:
    """Step 2: stretch, letterbox or short-side scale to ``config.resize_dims`` (HWC)."""
    if config.resize_dims is None:
        raise SophonError("resize_dims must be resolved before resizing")
    rh, rw = config.resize_dims
    ih, iw = img.shape[:2]
    if not config.keep_aspect_ratio:
        return _resize(img, rw, rh)
    if config.keep_ratio_mode == "letterbox":
        s = min(rw / iw, rh / ih)
        nw, nh = int(iw * s), int(ih * s)
        resized = _resize(img, nw, nh)
        canvas = np.full((rh, rw, img.shape[2]), config.pad_value, dtype=np.float32)
        top, left = ((rh - nh) // 2, (rw - nw) // 2) if config.pad_type == "center" else (0, 0)
        canvas[top : top + nh, left : left + nw, :] = resized
        return canvas
    s = max(rw / iw, rh / ih)
    nw, nh = max(int(iw * s), rw), max(int(ih * s), rh)
    resized = _resize(img, nw, nh)
    top, left = (nh - rh) // 2, (nw - rw) // 2
    return resized[top : top + rh, left : left + rw, :]


def load_image(
    path: Path, config: PreprocessConfig, input_shape: Sequence[int]
) -> npt.NDArray[np.float32]:
    """Turn one picture into the float32 tensor of ``input_shape`` (batch repeated).

    Raises:
        ShapeError: the pixel format's channel count differs from the input's, or
            ``resize_dims`` is smaller than the net input.
    """
    config = config.resolved(input_shape)
    batch, channels, h, w = _layout(input_shape, config.channel_format)
    if channels != config.channels:
        raise ShapeError(
            f"pixel_format {config.pixel_format} gives {config.channels} channel(s) but the "
            f"input {list(input_shape)} has {channels}; set --pixel_format to match"
        )
    img = read_image(path, config.pixel_format)
    chw = np.transpose(resize_image(img, config), (2, 0, 1))
    rh, rw = chw.shape[1:]
    if (rh, rw) != (h, w):
        if rh < h or rw < w:
            raise ShapeError(
                f"--resize_dims {[rh, rw]} is smaller than the net input {[h, w]}; "
                f"resize_dims must be at least the input's H,W"
            )
        top, left = rh // 2 - h // 2, rw // 2 - w // 2
        chw = chw[:, top : top + h, left : left + w]
    x = chw.astype(np.float32)
    if config.pixel_format == "rgb":
        x = x[::-1, :, :]
    mean = _per_channel("mean", config.mean, channels)
    scale = _per_channel("scale", config.scale, channels)
    x = (x - mean) * scale
    if config.channel_format == "nhwc":
        x = np.transpose(x, (1, 2, 0))
    x = np.ascontiguousarray(x, dtype=np.float32)
    if batch is None:
        return x
    return np.repeat(x[None], batch, axis=0)


def is_image_file(path: Path) -> bool:
    """Whether ``path`` has a picture suffix TPU-MLIR preprocesses (.jpg, .png, …)."""
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
