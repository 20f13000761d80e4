"""Operations: a node reads values, writes new values and carries typed attributes."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence

from sophonc.ir.attrs import AttrValue, check_attr
from sophonc.ir.types import TensorType
from sophonc.ir.value import Value


class Node:
    """One operation. It registers itself as a use of each input at construction.

    ``inputs`` may contain ``None`` for an omitted optional input. Outputs are owned
    by the node: each output's ``producer`` is this node.
    """

    __slots__ = ("attrs", "inputs", "name", "op_type", "outputs")

    def __init__(
        self,
        op_type: str,
        inputs: Sequence[Value | None],
        outputs: Sequence[Value] | Sequence[str],
        attrs: Mapping[str, object] | None = None,
        *,
        name: str | None = None,
        output_types: Sequence[TensorType] | None = None,
    ) -> None:
        self.op_type = op_type
        self.inputs: list[Value | None] = []
        self.outputs: list[Value] = []
        self.attrs: dict[str, AttrValue] = {
            k: check_attr(k, v) for k, v in (attrs or {}).items()
        }
        for i, v in enumerate(inputs):
            self.inputs.append(v)
            if v is not None:
                v._add_use(self, i)
        given_outputs: list[Value | builtins.str] = list(outputs)
        for i, given in enumerate(given_outputs):
            if isinstance(given, builtins.str):
                t = output_types[i] if output_types is not None else TensorType("f32")
                out = Value(given, t)
            else:
                out = given
            if out.producer is not None:
                raise ValueError(f"value '{out.name}' already has a producer")
            out.producer = self
            out.index = i
            self.outputs.append(out)
        self.name = (
            name if name is not None else (self.outputs[0].name if self.outputs else op_type)
        )

    @property
    def output(self) -> Value:
        """The single (first) output."""
        return self.outputs[0]

    def input(self, index: int) -> Value:
        """The input at ``index``; fails if it is omitted."""
        v = self.inputs[index] if index < len(self.inputs) else None
        if v is None:
            raise ValueError(f"{self.op_type} '{self.name}' has no input {index}")
        return v

    def opt_input(self, index: int) -> Value | None:
        """The input at ``index`` or None when omitted or out of range."""
        return self.inputs[index] if index < len(self.inputs) else None

    def set_input(self, index: int, value: Value | None) -> None:
        """Rewire one input slot, keeping use lists exact."""
        old = self.inputs[index]
        if old is not None:
            old._remove_use(self, index)
        self.inputs[index] = value
        if value is not None:
            value._add_use(self, index)

    def append_input(self, value: Value | None) -> None:
        """Add one more input slot at the end."""
        self.inputs.append(None)
        self.set_input(len(self.inputs) - 1, value)

    def truncate_inputs(self, count: int) -> None:
        """Drop the input slots from ``count`` on."""
        for i in range(len(self.inputs) - 1, count - 1, -1):
            self.set_input(i, None)
            del self.inputs[i]

    def detach(self) -> None:
        """Remove this node from the use lists of its inputs (before deleting it)."""
        for i, v in enumerate(self.inputs):
            if v is not None:
                v._remove_use(self, i)
        self.inputs = [None] * len(self.inputs)

    def attr(self, name: str, default: AttrValue | None = None) -> AttrValue:
        """An attribute's value, ``default`` when absent, KeyError when neither."""
        if name in self.attrs:
            return self.attrs[name]
        if default is None:
            raise KeyError(f"{self.op_type} '{self.name}' has no attribute '{name}'")
        return default

    def ints(
        self, name: builtins.str, default: tuple[builtins.int, ...] | None = None
    ) -> tuple[builtins.int, ...]:
        """A tuple-of-ints attribute."""
        v = self.attrs.get(name, default)
        if v is None:
            raise KeyError(f"{self.op_type} '{self.name}' has no attribute '{name}'")
        return tuple(int(x) for x in v)  # type: ignore[union-attr]

    def int(self, name: builtins.str, default: builtins.int | None = None) -> builtins.int:
        """An int (or bool) attribute."""
        v = self.attrs.get(name, default)
        if v is None:
            raise KeyError(f"{self.op_type} '{self.name}' has no attribute '{name}'")
        return int(v)  # type: ignore[arg-type]

    def float(
        self, name: builtins.str, default: builtins.float | None = None
    ) -> builtins.float:
        """A float attribute."""
        v = self.attrs.get(name, default)
        if v is None:
            raise KeyError(f"{self.op_type} '{self.name}' has no attribute '{name}'")
        return float(v)  # type: ignore[arg-type]

    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str:
        """A string attribute."""
        v = self.attrs.get(name, default)
        if v is None:
            raise KeyError(f"{self.op_type} '{self.name}' has no attribute '{name}'")
        return str(v)

    def __repr__(self) -> builtins.str:
        return f"Node({self.op_type}, {self.name!r})"
