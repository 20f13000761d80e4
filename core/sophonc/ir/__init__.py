"""The sophonc IR: SSA values with use lists, nodes, a graph and a module.

See :mod:`sophonc.ir.text` for the round-tripping text form.
"""

from sophonc.ir.attrs import AttrValue, check_attr
from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.types import DTYPES, QuantType, TensorType, dtype_name, numpy_dtype
from sophonc.ir.value import Use, Value

__all__ = [
    "DTYPES",
    "AttrValue",
    "Graph",
    "Module",
    "Node",
    "QuantType",
    "TensorType",
    "Use",
    "Value",
    "check_attr",
    "dtype_name",
    "numpy_dtype",
]
