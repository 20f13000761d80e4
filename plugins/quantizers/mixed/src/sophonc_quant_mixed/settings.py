"""The knobs of one search, checked once so that every bad value is one clear error."""

from __future__ import annotations

from dataclasses import dataclass

from sophonc.api import TargetSpec
from sophonc.errors import SophonError

#: ``--fp_type`` values; ``auto`` is the chip's default mixed float type.
FP_TYPES = ("auto", "F16", "F32", "BF16")


@dataclass(frozen=True)
class SearchSettings:
    """What the search aims at and what it may spend.

    Attributes:
        expected_cos: the network outputs' mean cosine against F32 to reach.
        min_layer_cos: a layer whose own output (only it quantized) is less
            similar than this to F32 gets the threshold-method search even when
            its harm at the outputs is small.
        max_float_layers: most layers the search may put in float (None: as
            many as have any measurable harm).
        fp_type: the float mode written for float layers (resolved, never auto).
    """

    expected_cos: float = 0.99
    min_layer_cos: float = 0.99
    max_float_layers: int | None = None
    fp_type: str = "F16"


def check_cosine(flag: str, value: float) -> float:
    """A cosine target must lie in (0, 1]."""
    if not 0.0 < value <= 1.0:
        raise SophonError(f"--{flag} {value} is outside (0, 1]; give a cosine such as 0.99")
    return value


def resolve_fp_type(requested: str, target: TargetSpec) -> str:
    """``auto`` → the chip's default mixed type; an explicit type must be one it mixes."""
    mode = requested.strip().upper()
    if mode == "AUTO":
        return target.mixed_fp_types[0]
    if mode not in FP_TYPES:
        raise SophonError(f"--fp_type '{requested}' is not one of {', '.join(FP_TYPES)}")
    if mode not in target.mixed_fp_types:
        raise SophonError(
            f"{target.chip} cannot keep layers in {mode} inside an INT8 model; use --fp_type "
            f"auto or one of {', '.join(target.mixed_fp_types)}"
        )
    return mode


def check_max_float_layers(value: int | None) -> int | None:
    """``--max_float_layers`` must be 0 or more when given."""
    if value is not None and value < 0:
        raise SophonError(f"--max_float_layers must be 0 or more, got {value}")
    return value
