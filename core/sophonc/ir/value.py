"""SSA values: each has at most one producer and knows every use of itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sophonc.ir.attrs import AttrValue
from sophonc.ir.types import QuantType, TensorType, dtype_name

if TYPE_CHECKING:
    from sophonc.ir.node import Node


@dataclass(frozen=True, slots=True)
class Use:
    """One use of a value: the consuming node and the input slot it fills."""

    node: Node
    index: int


class Value:
    """A tensor in the graph: a graph input, a weight (``const`` set) or a node output.

    Names follow TPU-MLIR: graph inputs and weights keep the framework's name, and a
    node output is named ``<framework output name>_<OpType>``, so npz dumps,
    calibration tables and qtables line up with the official toolchain's.
    """

    __slots__ = ("_uses", "const", "index", "meta", "name", "producer", "quant", "type")

    def __init__(
        self,
        name: str,
        type: TensorType,
        *,
        const: npt.NDArray[np.generic] | None = None,
        quant: QuantType | None = None,
    ) -> None:
        self.name = name
        self.type = type
        self.const = const
        self.quant = quant
        self.producer: Node | None = None
        self.index = 0
        self.meta: dict[str, AttrValue] = {}
        self._uses: list[Use] = []

    @classmethod
    def weight(cls, name: str, data: npt.ArrayLike) -> Value:
        """A constant value holding ``data`` (a weight, bias or folded constant)."""
        arr = np.asarray(data)
        if arr.dtype == np.float64:
            arr = arr.astype(np.float32)
        return cls(name, TensorType(dtype_name(arr.dtype), tuple(arr.shape)), const=arr)

    @property
    def is_const(self) -> bool:
        """Whether this value is a weight whose data is known at compile time."""
        return self.const is not None

    @property
    def shape(self) -> tuple[int, ...]:
        """The static shape; fails when it has not been inferred."""
        if self.type.shape is None:
            raise ValueError(f"shape of '{self.name}' not inferred")
        return self.type.shape

    @property
    def dtype(self) -> str:
        """The IR dtype name."""
        return self.type.dtype

    def uses(self) -> tuple[Use, ...]:
        """Every (node, input index) that reads this value, in insertion order."""
        return tuple(self._uses)

    def consumers(self) -> list[Node]:
        """The distinct nodes reading this value."""
        seen: list[Node] = []
        for use in self._uses:
            if all(use.node is not n for n in seen):
                seen.append(use.node)
        return seen

    def _add_use(self, node: Node, index: int) -> None:
        self._uses.append(Use(node, index))

    def _remove_use(self, node: Node, index: int) -> None:
        for i, use in enumerate(self._uses):
            if use.node is node and use.index == index:
                del self._uses[i]
                return
        raise ValueError(f"'{self.name}' has no use by {node.name}[{index}]")

    def replace_all_uses_with(self, other: Value) -> None:
        """Make every reader of this value read ``other`` instead."""
        if other is self:
            return
        for use in list(self._uses):
            use.node.set_input(use.index, other)

    def __repr__(self) -> str:
        return f"Value({self.name!r}, {self.type})"
