"""Reading the IR text form back into a module.

The grammar is line based, one definition a line, as :mod:`sophonc.ir.text_printer`
writes it; blank lines and lines starting with ``//`` are skipped so a file can be
annotated by hand. Every problem becomes a one-line :class:`IRError` of the form
``<source>:<line>: <cause>``. Weight data is not in the text: each ``weight`` line
takes its array from a mapping (the ``.npz`` beside the file) and checks that the
array's dtype and shape are the ones the line declares.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import ml_dtypes
import numpy as np
import numpy.typing as npt

from sophonc.errors import IRError
from sophonc.ir.attrs import AttrValue
from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.text_cursor import LineCursor
from sophonc.ir.text_lexer import format_name, tokenize
from sophonc.ir.text_printer import format_tensor_type
from sophonc.ir.types import TensorType, numpy_dtype
from sophonc.ir.value import Value

Weights = Mapping[str, npt.NDArray[np.generic]]

#: Called with the module metadata once the header is read; returns the weight
#: arrays and how to name their source in messages ("weight file 'a.npz'").
WeightResolver = Callable[[Mapping[str, AttrValue]], tuple[Weights, str]]


class _Parser:
    """Reads a whole text, keeping the table of values defined so far."""

    def __init__(self, text: str, source: str, resolve: WeightResolver) -> None:
        self.source = source
        self.resolve = resolve
        self.lines = self._lines(text)
        self.last = 0
        self.values: dict[str, tuple[Value, int]] = {}

    def _lines(self, text: str) -> Iterator[LineCursor]:
        for number, raw in enumerate(text.split("\n"), start=1):
            self.last = number
            stripped = raw.strip()
            if not stripped or stripped.startswith("//"):
                continue
            try:
                tokens = tokenize(raw)
            except ValueError as exc:
                raise IRError(f"{self.source}:{number}: {exc}") from None
            yield LineCursor(self.source, number, tokens)

    def line(self, expected: str) -> LineCursor:
        found = next(self.lines, None)
        if found is None:
            raise IRError(f"{self.source}:{self.last}: the text ends where {expected} should be")
        return found

    def define(self, line: LineCursor, value: Value) -> None:
        if value.name in self.values:
            first = self.values[value.name][1]
            ref = format_name("%", value.name)
            raise line.error(f"{ref} is defined twice (first on line {first})")
        self.values[value.name] = (value, line.number)

    def use(self, line: LineCursor) -> Value:
        tok = line.take("value", "a %value")
        if tok.value not in self.values:
            raise line.error(f"{tok.text} is used but never defined above")
        return self.values[tok.value][0]

    def weight(self, line: LineCursor, value: Value, weights: Weights, label: str) -> None:
        ref = format_name("%", value.name)
        if value.name not in weights:
            raise line.error(f"weight {ref} is missing from {label}")
        data = np.asarray(weights[value.name])
        want = numpy_dtype(value.type.dtype)
        if value.type.dtype == "bf16" and data.dtype == np.dtype("V2"):
            data = data.view(ml_dtypes.bfloat16)  # np.save writes bfloat16 as raw bytes
        shape_ok = value.type.shape is None or tuple(data.shape) == value.type.shape
        if data.dtype != want or not shape_ok:
            raise line.error(
                f"weight {ref} in {label} is {data.dtype}{list(data.shape)} but the text "
                f"declares {format_tensor_type(value.type)}"
            )
        value.const = data

    def node(self, line: LineCursor) -> Node:
        results: list[str] = []
        if line.at_kind("value"):
            results.append(line.take("value", "a %value").value)
            while line.accept(","):
                results.append(line.take("value", "a %value").value)
            line.expect("=")
        op_type = line.take("str", 'a quoted op type such as "Conv"').value
        line.expect("(")
        inputs: list[Value | None] = []
        line.comma_list(")", lambda: inputs.append(None if line.accept("none") else self.use(line)))
        attrs = line.attrs() if line.at("{") else {}
        outputs: list[Value] = []
        if line.accept(":"):
            while True:
                index = len(outputs)
                outputs.append(line.value_type(results[index] if index < len(results) else ""))
                if not line.accept(","):
                    break
        if len(outputs) != len(results):
            raise line.error(f"{len(results)} results but {len(outputs)} result types")
        node_name: str | None = None
        if line.accept("loc"):
            line.expect("(")
            node_name = line.take("str", "a quoted node name").value
            line.expect(")")
        line.end()
        for value in outputs:
            self.define(line, value)
        return Node(op_type, inputs, outputs, attrs, name=node_name)

    def input_line(self, line: LineCursor) -> Value:
        """``%x: tensor<...> [!quant<...>] [{meta}][,]`` in the func signature."""
        name = line.take("value", "a %input").value
        line.expect(":")
        value = line.value_type(name)
        line.accept(",")
        line.end()
        self.define(line, value)
        return value

    def weight_line(self, line: LineCursor, weights: Weights, label: str) -> None:
        """``%w = weight : tensor<...>``, its data taken from ``weights``."""
        name = line.take("value", "a %weight").value
        line.expect("=")
        line.expect("weight")
        line.expect(":")
        value = line.value_type(name)
        line.end()
        self.define(line, value)
        self.weight(line, value, weights, label)

    def return_line(self, line: LineCursor, result_types: list[TensorType]) -> list[Value]:
        """``return %a, %b``, checked against the types the signature declares."""
        outputs: list[Value] = []
        if line.peek() is not None:
            outputs.append(self.use(line))
            while line.accept(","):
                outputs.append(self.use(line))
        line.end()
        if len(outputs) != len(result_types):
            raise line.error(
                f"return gives {len(outputs)} values but the func line declares "
                f"{len(result_types)} results"
            )
        for i, (value, declared) in enumerate(zip(outputs, result_types, strict=True)):
            if value.type != declared:
                raise line.error(
                    f"result {i} {format_name('%', value.name)} is "
                    f"{format_tensor_type(value.type)} but the func line declares "
                    f"{format_tensor_type(declared)}"
                )
        return outputs

    def parse(self) -> Module:
        head = self.line("the module header")
        head.expect("module")
        module_name = head.take("symbol", "@module_name").value
        metadata = head.attrs() if head.accept("attributes") else {}
        head.end()
        weights, label = self.resolve(metadata)

        sig = self.line("the func line")
        sig.expect("func")
        graph = Graph(sig.take("symbol", "@graph_name").value)
        sig.expect("(")
        sig.end()
        line = self.line("the graph inputs or ')'")
        while not line.accept(")"):
            graph.inputs.append(self.input_line(line))
            line = self.line("the graph inputs or ')'")
        line.expect("->")
        line.expect("(")
        result_types: list[TensorType] = []
        line.comma_list(")", lambda: result_types.append(line.tensor_type()))
        line.expect("{")
        line.end()

        line = self.line("'return'")
        while not line.accept("return"):
            kinds = [(t.kind, t.text) for t in line.tokens[:3]]
            if kinds[1:] == [("punct", "="), ("word", "weight")]:
                self.weight_line(line, weights, label)
            else:
                graph.nodes.append(self.node(line))
            line = self.line("'return'")
        graph.outputs = self.return_line(line, result_types)
        closing = self.line("'}'")
        closing.expect("}")
        closing.end()
        extra = next(self.lines, None)
        if extra is not None:
            raise extra.error("unexpected text after the closing '}' of the function")
        return Module(module_name, graph, dict[str, object](metadata))


def parse_text(text: str, source: str, resolve: WeightResolver) -> Module:
    """Parse ``text`` (named ``source`` in errors), asking ``resolve`` for the weights."""
    return _Parser(text, source, resolve).parse()


def parse_module(text: str, weights: Weights, *, source: str = "<text>") -> Module:
    """The module that :func:`print_module` printed as ``text``, weights from ``weights``."""
    return parse_text(text, source, lambda _metadata: (weights, "the weights given"))
