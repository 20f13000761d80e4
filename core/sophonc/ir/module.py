"""A module: one graph plus the metadata TPU-MLIR keeps on its modules."""

from __future__ import annotations

from sophonc.ir.attrs import AttrValue, check_attr
from sophonc.ir.graph import Graph


class Module:
    """The unit every stage reads and writes.

    ``metadata`` carries TPU-MLIR's module attributes: ``platform`` (ONNX, TORCH, …),
    ``state`` (TOP_F32, TOP_QUANTIZED, …), ``chip`` (``ALL`` before lowering) and
    ``weight_file``.
    """

    __slots__ = ("graph", "metadata", "name")

    def __init__(
        self, name: str, graph: Graph, metadata: dict[str, object] | None = None
    ) -> None:
        self.name = name
        self.graph = graph
        self.metadata: dict[str, AttrValue] = {
            k: check_attr(k, v) for k, v in (metadata or {}).items()
        }
