"""What every op's shape rule needs: input types, attributes, broadcasting, clear errors.

A shape rule sees only types and attributes. When something does not fit it raises a
:class:`ShapeError` that names the op and the shapes involved, because that message
is what a user reads when a model is imported or a pass re-infers types. A missing or
malformed attribute is malformed IR rather than a shape problem: :class:`IRError`.
Callers (the frontend's ``emit``, the shape-inference pass) prefix the node's name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sophonc.errors import IRError, ShapeError
from sophonc.ir.node import Node
from sophonc.ir.types import TensorType

Shape = tuple[int, ...]


def fmt(shape: Iterable[int]) -> str:
    """A shape as users read it elsewhere in messages: ``[1, 3, 224, 224]``."""
    return str([int(d) for d in shape])


def shape_error(node: Node, message: str) -> ShapeError:
    """A ShapeError naming the op."""
    return ShapeError(f"{node.op_type}: {message}")


def attr_error(node: Node, message: str) -> IRError:
    """An IRError naming the op, for missing or malformed attributes."""
    return IRError(f"{node.op_type}: {message}")


def optional_type(node: Node, index: int) -> TensorType | None:
    """The type of input ``index``, None when it is omitted; its shape must be known."""
    v = node.opt_input(index)
    if v is None:
        return None
    if v.type.shape is None:
        raise shape_error(node, f"input {index} '{v.name}' has no inferred shape yet")
    return v.type


def input_type(node: Node, index: int) -> TensorType:
    """The type of required input ``index`` with a known shape."""
    t = optional_type(node, index)
    if t is None:
        raise attr_error(node, f"input {index} is required but omitted")
    return t


def input_shape(node: Node, index: int) -> Shape:
    """The static shape of required input ``index``."""
    shape = input_type(node, index).shape
    assert shape is not None
    return shape


def given_types(node: Node) -> list[TensorType]:
    """The types of every input that is not omitted, in order (variadic ops)."""
    types = [optional_type(node, i) for i in range(len(node.inputs))]
    return [t for t in types if t is not None]


def shape_of(t: TensorType) -> Shape:
    """The shape of a type already checked to have one."""
    assert t.shape is not None
    return t.shape


def broadcast_shapes(node: Node, shapes: Sequence[Shape]) -> Shape:
    """The numpy broadcast of ``shapes``; ShapeError naming them when they clash."""
    rank = max((len(s) for s in shapes), default=0)
    out: list[int] = []
    for axis in range(rank):
        dims = {s[len(s) - rank + axis] for s in shapes if len(s) - rank + axis >= 0}
        big = dims - {1}
        if len(big) > 1:
            shown = " and ".join(fmt(s) for s in shapes)
            raise shape_error(node, f"shapes {shown} do not broadcast")
        out.append(big.pop() if big else 1)
    return tuple(out)


def broadcasts_onto(shape: Shape, target: Shape) -> bool:
    """Whether ``shape`` broadcasts onto ``target`` without enlarging it."""
    if len(shape) > len(target):
        return False
    tail = target[len(target) - len(shape) :]
    return all(d in (1, t) for d, t in zip(shape, tail, strict=True))


def same_dtype(node: Node, types: Sequence[TensorType]) -> str:
    """The common dtype of ``types``; ShapeError when they differ (ONNX allows no mixing)."""
    dtypes = [t.dtype for t in types]
    if any(d != dtypes[0] for d in dtypes):
        raise shape_error(node, f"inputs have different dtypes {', '.join(dtypes)}")
    return dtypes[0]


def ints_attr(node: Node, name: str, default: tuple[int, ...] | None = None) -> tuple[int, ...]:
    """A tuple-of-ints attribute, IRError when it is required and absent."""
    value = node.attrs.get(name)
    if value is None:
        if default is None:
            raise attr_error(node, f"attribute '{name}' is required")
        return default
    if not isinstance(value, tuple) or any(isinstance(v, float | str) for v in value):
        raise attr_error(node, f"attribute '{name}' must be a list of ints, not {value!r}")
    return tuple(int(v) for v in value)


def int_attr(node: Node, name: str, default: int | None = None) -> int:
    """An int (or bool) attribute, IRError when it is required and absent."""
    value = node.attrs.get(name)
    if value is None:
        if default is None:
            raise attr_error(node, f"attribute '{name}' is required")
        return default
    if not isinstance(value, int | float) or (isinstance(value, float) and not value.is_integer()):
        raise attr_error(node, f"attribute '{name}' must be an int, not {value!r}")
    return int(value)


def float_attr(node: Node, name: str, default: float | None = None) -> float:
    """A float attribute (ints accepted), IRError when it is required and absent."""
    value = node.attrs.get(name)
    if value is None:
        if default is None:
            raise attr_error(node, f"attribute '{name}' is required")
        return default
    if not isinstance(value, int | float):
        raise attr_error(node, f"attribute '{name}' must be a number, not {value!r}")
    return float(value)


def floats_attr(node: Node, name: str) -> tuple[float, ...] | None:
    """A tuple-of-numbers attribute as floats, None when absent."""
    value = node.attrs.get(name)
    if value is None:
        return None
    if not isinstance(value, tuple) or any(isinstance(v, str) for v in value):
        raise attr_error(node, f"attribute '{name}' must be a list of numbers, not {value!r}")
    return tuple(float(v) for v in value)


def choice_attr(node: Node, name: str, default: str, choices: Sequence[str]) -> str:
    """A string attribute restricted to ``choices``."""
    value = node.attrs.get(name, default)
    if not isinstance(value, str) or value not in choices:
        raise attr_error(
            node, f"attribute '{name}' is {value!r}; expected one of {', '.join(choices)}"
        )
    return value


def norm_axis(node: Node, axis: int, rank: int, what: str = "axis") -> int:
    """``axis`` checked against ``rank`` (negative values count from the end)."""
    if not -rank <= axis < rank:
        raise shape_error(node, f"{what} {axis} is out of range for a rank-{rank} input")
    return axis + rank if axis < 0 else axis


def axis_attr(node: Node, rank: int, default: int | None = None, name: str = "axis") -> int:
    """The ``axis`` attribute, checked and made non-negative."""
    return norm_axis(node, int_attr(node, name, default), rank, name)


def axes_attr(node: Node, rank: int, name: str = "axes") -> tuple[int, ...]:
    """The ``axes`` attribute, checked, non-negative and sorted; empty means every axis."""
    axes = ints_attr(node, name, ())
    if not axes:
        return tuple(range(rank))
    normed = sorted({norm_axis(node, a, rank, "axis") for a in axes})
    if len(normed) != len(axes):
        raise shape_error(node, f"{name} {list(axes)} repeat an axis")
    return tuple(normed)


def same_as_input(node: Node) -> list[TensorType]:
    """Shape rule of ops whose output has the type of their first input."""
    return [input_type(node, 0)]


def numel(shape: Iterable[int]) -> int:
    """Number of elements of a shape."""
    n = 1
    for d in shape:
        n *= int(d)
    return n
