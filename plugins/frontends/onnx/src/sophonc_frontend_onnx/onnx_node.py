"""A light view of one ONNX ``NodeProto`` with its attributes decoded once.

Converters read attributes through typed accessors with ONNX's defaults written at
the call site, so the converter's code is also its statement of the op's schema.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np
import numpy.typing as npt


def decode_attribute(attr: Any) -> object:
    """One ``AttributeProto`` as a Python value (tensors become numpy arrays)."""
    from onnx import AttributeProto, numpy_helper

    kind = attr.type
    if kind == AttributeProto.FLOAT:
        return float(attr.f)
    if kind == AttributeProto.INT:
        return int(attr.i)
    if kind == AttributeProto.STRING:
        return attr.s.decode("utf-8", errors="replace")
    if kind == AttributeProto.TENSOR:
        return numpy_helper.to_array(attr.t)
    if kind == AttributeProto.FLOATS:
        return tuple(float(v) for v in attr.floats)
    if kind == AttributeProto.INTS:
        return tuple(int(v) for v in attr.ints)
    if kind == AttributeProto.STRINGS:
        return tuple(s.decode("utf-8", errors="replace") for s in attr.strings)
    # Graphs, sparse tensors and type protos are kept raw: no core op takes them.
    return attr


class OnnxNode:
    """An ONNX node: op type, domain, tensor names, decoded attributes, opset."""

    __slots__ = ("attrs", "domain", "inputs", "name", "op_type", "opset", "outputs")

    def __init__(self, proto: Any, opset: int) -> None:
        self.op_type: str = proto.op_type
        self.domain: str = proto.domain if proto.domain != "ai.onnx" else ""
        self.inputs: list[str] = list(proto.input)
        self.outputs: list[str] = list(proto.output)
        self.name: str = proto.name or (self.outputs[0] if self.outputs else self.op_type)
        self.attrs: dict[str, object] = {a.name: decode_attribute(a) for a in proto.attribute}
        self.opset = opset

    @property
    def out_names(self) -> list[str]:
        """The IR names of the outputs: ``<onnx tensor>_<OpType>`` ('' when omitted)."""
        return [f"{o}_{self.op_type}" if o else "" for o in self.outputs]

    def has(self, name: str) -> bool:
        """Whether the attribute is present."""
        return name in self.attrs

    def int(self, name: builtins.str, default: builtins.int) -> builtins.int:
        """An int attribute."""
        value: builtins.int = int(self.attrs.get(name, default))  # type: ignore[call-overload]
        return value

    def float(self, name: builtins.str, default: builtins.float) -> builtins.float:
        """A float attribute."""
        return float(self.attrs.get(name, default))  # type: ignore[arg-type]

    def str(self, name: builtins.str, default: builtins.str) -> builtins.str:
        """A string attribute."""
        return str(self.attrs.get(name, default))

    def ints(
        self, name: builtins.str, default: tuple[builtins.int, ...] | None = None
    ) -> tuple[builtins.int, ...] | None:
        """A list-of-ints attribute (None when absent and no default)."""
        v = self.attrs.get(name)
        if v is None:
            return default
        return tuple(int(x) for x in v)  # type: ignore[attr-defined]

    def floats(
        self, name: builtins.str, default: tuple[builtins.float, ...] | None = None
    ) -> tuple[builtins.float, ...] | None:
        """A list-of-floats attribute (None when absent and no default)."""
        v = self.attrs.get(name)
        if v is None:
            return default
        return tuple(float(x) for x in v)  # type: ignore[attr-defined]

    def tensor(self, name: builtins.str) -> npt.NDArray[np.generic] | None:
        """A tensor attribute as an array (None when absent)."""
        v = self.attrs.get(name)
        return v if isinstance(v, np.ndarray) else None

    def input_given(self, index: builtins.int) -> bool:
        """Whether optional input ``index`` is present (non-empty name)."""
        return index < len(self.inputs) and bool(self.inputs[index])

    def output_used(self, index: builtins.int) -> bool:
        """Whether output ``index`` exists (a non-empty name)."""
        return index < len(self.outputs) and bool(self.outputs[index])

    def __repr__(self) -> builtins.str:
        return f"OnnxNode({self.op_type}, {self.name!r})"
