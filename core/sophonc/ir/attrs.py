"""Typed node attributes.

An attribute is a plain Python value of one of a few kinds; the kind is printed in
the text form so that reading it back gives the same Python value and type.
"""

from __future__ import annotations

from typing import TypeAlias

AttrValue: TypeAlias = (
    bool | int | float | str | tuple[int, ...] | tuple[float, ...] | tuple[str, ...]
)

#: Names of the attribute kinds, as the text form writes them.
ATTR_KINDS = ("bool", "int", "float", "str", "ints", "floats", "strs")


def attr_kind(value: AttrValue) -> str:
    """The kind of an attribute value, or ValueError for an unsupported value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, tuple):
        if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return "ints"
        if all(isinstance(v, float) for v in value):
            return "floats"
        if all(isinstance(v, str) for v in value):
            return "strs"
    raise ValueError(f"unsupported attribute value {value!r}")


def check_attr(name: str, value: object) -> AttrValue:
    """Normalise an attribute value (lists become tuples) and check its kind."""
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple) and value and all(isinstance(v, float) for v in value):
        pass
    elif isinstance(value, tuple) and any(isinstance(v, float) for v in value):
        value = tuple(float(v) for v in value)
    try:
        attr_kind(value)  # type: ignore[arg-type]
    except ValueError:
        raise ValueError(f"attribute '{name}': unsupported value {value!r}") from None
    return value  # type: ignore[return-value]
