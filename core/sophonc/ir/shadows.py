"""Tensors a rewrite removed but other tools still name: aliases and shadows.

A fusion keeps one tensor (and its framework name) where the source model, or
TPU-MLIR's own top-level graph, had several. TPU-MLIR names some fused results
differently (a BatchNorm folded into a Conv keeps the *Conv's* name; a HardSwish
written out keeps ``<tensor>_HardSwish``) and keeps some tensors we fold away
(the ``MulConst``/``AddConst`` after a Conv). So that a calibration table made
here covers the names the official ``model_deploy`` looks up, and a table made
there is read here, a surviving value records those names:

* an *alias* holds exactly the survivor's values;
* a *shadow* is a per-channel affine function of them,
  ``shadow = survivor · scale + shift`` along ``axis`` (an alias is the shadow
  with scale 1 and shift 0).

They live in ``Value.meta`` (so the text form keeps them) under ``shadow.<i>.*``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.ir.value import Value

_COUNT = "shadow.count"


@dataclass(frozen=True)
class Shadow:
    """``name`` = survivor · ``scale`` + ``shift`` along ``axis`` (length-1 = scalar)."""

    name: str
    scale: tuple[float, ...] = (1.0,)
    shift: tuple[float, ...] = (0.0,)
    axis: int = 1

    @property
    def is_alias(self) -> bool:
        """Whether the shadow holds exactly the survivor's values."""
        return all(s == 1.0 for s in self.scale) and all(t == 0.0 for t in self.shift)


def shadows(value: Value) -> list[Shadow]:
    """The shadows recorded on ``value``, in recording order."""
    found: list[Shadow] = []
    count = value.meta.get(_COUNT, 0)
    for i in range(count if isinstance(count, int) else 0):
        p = f"shadow.{i}."
        scale, shift, axis = (value.meta.get(p + k) for k in ("scale", "shift", "axis"))
        found.append(
            Shadow(
                str(value.meta[p + "name"]),
                _floats(scale),
                _floats(shift),
                axis if isinstance(axis, int) else 1,
            )
        )
    return found


def _floats(v: object) -> tuple[float, ...]:
    if isinstance(v, tuple):
        return tuple(float(x) for x in v)
    if isinstance(v, int | float):
        return (float(v),)
    return ()


def _store(value: Value, found: list[Shadow]) -> None:
    for key in [k for k in value.meta if k.startswith("shadow.")]:
        del value.meta[key]
    kept: dict[str, Shadow] = {}
    for s in found:
        if s.name != value.name and s.name not in kept:
            kept[s.name] = s
    if not kept:
        return
    value.meta[_COUNT] = len(kept)
    for i, s in enumerate(kept.values()):
        p = f"shadow.{i}."
        value.meta[p + "name"] = s.name
        value.meta[p + "scale"] = tuple(float(x) for x in s.scale)
        value.meta[p + "shift"] = tuple(float(x) for x in s.shift)
        value.meta[p + "axis"] = int(s.axis)


def add_alias(value: Value, name: str) -> None:
    """Record that ``name`` holds exactly ``value``'s values."""
    _store(value, [*shadows(value), Shadow(name)])


def alias_names(value: Value) -> list[str]:
    """The names that hold exactly ``value``'s values."""
    return [s.name for s in shadows(value) if s.is_alias]


def _compose(
    inner: Shadow, scale: npt.NDArray[np.float64], shift: npt.NDArray[np.float64], axis: int
) -> Shadow | None:
    """``inner`` (a function of ``old``) as a function of ``new``, where
    ``old = new · scale + shift``; None when the axes disagree."""
    a = np.asarray(inner.scale, np.float64)
    b = np.asarray(inner.shift, np.float64)
    if inner.axis != axis and (a.size > 1 or b.size > 1) and (scale.size > 1 or shift.size > 1):
        return None
    new_scale = a * scale
    new_shift = a * shift + b
    return Shadow(inner.name, tuple(new_scale.tolist()), tuple(new_shift.tolist()),
                  axis if (scale.size > 1 or shift.size > 1) else inner.axis)  # fmt: skip


def carry(
    old: Value,
    new: Value,
    scale: npt.ArrayLike = 1.0,
    shift: npt.ArrayLike = 0.0,
    axis: int = 1,
) -> None:
    """Record ``old`` (removed) and its shadows on ``new``, with ``old = new·scale + shift``."""
    s = np.atleast_1d(np.asarray(scale, np.float64)).reshape(-1)
    t = np.atleast_1d(np.asarray(shift, np.float64)).reshape(-1)
    found = shadows(new)
    found.append(Shadow(old.name, tuple(s.tolist()), tuple(t.tolist()), axis))
    for inner in shadows(old):
        composed = _compose(inner, s, t, axis)
        if composed is not None:
            found.append(composed)
    _store(new, found)


def shadow_values(shadow: Shadow, data: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """The shadow's tensor computed from the survivor's ``data``."""
    x = np.asarray(data, np.float32)
    if shadow.is_alias:
        return x
    view = [1] * x.ndim
    scale = np.asarray(shadow.scale, np.float32)
    shift = np.asarray(shadow.shift, np.float32)
    if x.ndim and (scale.size > 1 or shift.size > 1):
        view[shadow.axis % x.ndim] = max(scale.size, shift.size)
    y = x * scale.reshape(view if scale.size > 1 else ()) + shift.reshape(
        view if shift.size > 1 else ()
    )
    return np.asarray(y, np.float32)
