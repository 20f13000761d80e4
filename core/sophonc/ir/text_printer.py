"""Writing a module as text: one readable, canonical line per value or node.

The form looks like MLIR so that it reads like TPU-MLIR's ``.mlir`` files::

    module @tiny attributes {chip = "ALL", weight_file = "tiny_weight.npz"}
    func @main(
      %x: tensor<1x3x8x8xf32> {pixel_format = "rgb"}
    ) -> (tensor<1x4x8x8xf32>) {
      %"conv.w" = weight : tensor<4x3x3x3xf32>
      %y_Conv = "Conv"(%x, %"conv.w", none) {pads = ints[1, 1, 1, 1]} : tensor<1x4x8x8xf32>
      return %y_Conv
    }

Every attribute dictionary is sorted by key and every literal has one written form
(see :mod:`sophonc.ir.text_lexer`), so printing a parsed module gives back the
very same string. Attribute kinds are visible: ``3`` is an int, ``3.0`` a float,
``ints[..]``/``floats[..]``/``strs[..]`` are tuples. A node's name is written as
``loc("...")`` only when it differs from the name the node would get by default.
Anything that could not be read back (two values with one name, a value read
before it is defined) raises :class:`IRError` instead of printing.
"""

from __future__ import annotations

from collections.abc import Mapping

from sophonc.errors import IRError
from sophonc.ir.attrs import AttrValue, attr_kind
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.text_lexer import BARE_NAME, format_float, format_name, quote
from sophonc.ir.types import QuantType, TensorType
from sophonc.ir.value import Value


def format_attr(value: AttrValue) -> str:
    """One attribute value, its kind recognisable from the text."""
    kind = attr_kind(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int":
        return str(int(value))  # type: ignore[arg-type]
    if kind == "float":
        return format_float(value)  # type: ignore[arg-type]
    if kind == "str":
        return quote(str(value))
    items: tuple[object, ...] = value  # type: ignore[assignment]
    if kind == "ints":
        body = ", ".join(str(int(v)) for v in items)  # type: ignore[call-overload]
    elif kind == "floats":
        body = ", ".join(format_float(v) for v in items)  # type: ignore[arg-type]
    else:
        body = ", ".join(quote(str(v)) for v in items)
    return f"{kind}[{body}]"


def format_attrs(attrs: Mapping[str, AttrValue], where: str) -> str:
    """``{key = value, ...}`` sorted by key; IRError for a value of no known kind."""
    parts: list[str] = []
    for key in sorted(attrs):
        try:
            text = format_attr(attrs[key])
        except ValueError:
            raise IRError(
                f"cannot print {where}: attribute {quote(key)} has the unsupported "
                f"value {attrs[key]!r}; use a bool, int, float, str or a tuple of one kind"
            ) from None
        parts.append(f"{format_name('', key)} = {text}")
    return "{" + ", ".join(parts) + "}"


def format_tensor_type(ttype: TensorType) -> str:
    """``tensor<1x3xf32>``; ``tensor<f32>`` for rank 0, ``tensor<*xf32>`` when unknown."""
    if ttype.shape is None:
        return f"tensor<*x{ttype.dtype}>"
    dims = "".join(f"{int(d)}x" for d in ttype.shape)
    return f"tensor<{dims}{ttype.dtype}>"


def format_quant(quant: QuantType) -> str:
    """``!quant<...>`` with every field of the quantized type."""
    expressed = quant.expressed if BARE_NAME.fullmatch(quant.expressed) else quote(quant.expressed)
    fields = [
        f"storage = {quant.storage}",
        f"expressed = {expressed}",
        "scale = [" + ", ".join(format_float(s) for s in quant.scale) + "]",
        "zero_point = [" + ", ".join(str(int(z)) for z in quant.zero_point) + "]",
    ]
    if quant.axis is not None:
        fields.append(f"axis = {int(quant.axis)}")
    fields += [f"qmin = {int(quant.qmin)}", f"qmax = {int(quant.qmax)}"]
    return "!quant<" + ", ".join(fields) + ">"


def format_value_type(value: Value) -> str:
    """A value's tensor type, quantized type and metadata, as written after ``:``."""
    text = format_tensor_type(value.type)
    if value.quant is not None:
        text += " " + format_quant(value.quant)
    if value.meta:
        text += " " + format_attrs(value.meta, f"value {format_name('%', value.name)}")
    return text


def default_node_name(node: Node) -> str:
    """The name a node gets when none is given: its first output's, else its op type."""
    return node.outputs[0].name if node.outputs else node.op_type


class _Printer:
    """Prints one module while checking that every value is defined once, before use."""

    def __init__(self, module: Module) -> None:
        self.module = module
        self.defined: dict[str, Value] = {}

    def define(self, value: Value) -> str:
        ref = format_name("%", value.name)
        if value.name in self.defined:
            raise IRError(
                f"cannot print module '{self.module.name}': two values are named {ref}; "
                f"give them unique names (graph.unique_name)"
            )
        self.defined[value.name] = value
        return ref

    def use(self, value: Value | None, reader: str) -> str:
        if value is None:
            return "none"
        ref = format_name("%", value.name)
        if self.defined.get(value.name) is not value:
            raise IRError(
                f"cannot print module '{self.module.name}': {reader} reads {ref}, which is "
                f"not a graph input, a weight or the output of an earlier node"
            )
        return ref

    def node_line(self, node: Node) -> str:
        where = f"{node.op_type} node {quote(node.name)}"
        operands = ", ".join(self.use(v, where) for v in node.inputs)
        text = f"{quote(node.op_type)}({operands})"
        if node.attrs:
            text += " " + format_attrs(node.attrs, where)
        if node.outputs:
            results = ", ".join(self.define(v) for v in node.outputs)
            text = f"{results} = {text} : " + ", ".join(format_value_type(v) for v in node.outputs)
        if node.name != default_node_name(node):
            text += f" loc({quote(node.name)})"
        return "  " + text

    def lines(self, metadata: Mapping[str, AttrValue]) -> list[str]:
        module, graph = self.module, self.module.graph
        header = f"module {format_name('@', module.name)}"
        if metadata:
            header += " attributes " + format_attrs(metadata, f"module '{module.name}'")
        out = [header, f"func {format_name('@', graph.name)}("]
        for i, value in enumerate(graph.inputs):
            comma = "," if i + 1 < len(graph.inputs) else ""
            out.append(f"  {self.define(value)}: {format_value_type(value)}{comma}")
        results = ", ".join(format_tensor_type(v.type) for v in graph.outputs)
        out.append(f") -> ({results}) {{")
        for weight in graph.weights():
            out.append(f"  {self.define(weight)} = weight : {format_value_type(weight)}")
        out.extend(self.node_line(node) for node in graph.nodes)
        returned = ", ".join(self.use(v, "the return") for v in graph.outputs)
        out.append(f"  return {returned}" if returned else "  return")
        out.append("}")
        return out


def format_module(module: Module, metadata: Mapping[str, AttrValue]) -> str:
    """The text of ``module`` with ``metadata`` in its header (save_module adds
    ``weight_file`` this way without touching the module until the files exist)."""
    return "\n".join(_Printer(module).lines(metadata)) + "\n"


def print_module(module: Module) -> str:
    """The canonical text form of ``module``; :func:`parse_module` reads it back."""
    return format_module(module, module.metadata)
