"""Reading the pieces of one line of the IR text form: literals, attributes, types.

Each method consumes tokens from the cursor and returns a Python value, or raises
a one-line :class:`IRError` that names the source and the line number.
"""

from __future__ import annotations

from collections.abc import Callable

from sophonc.errors import IRError
from sophonc.ir.attrs import AttrValue
from sophonc.ir.text_lexer import FLOAT_WORD, INT_WORD, Token, parse_nan_bits, quote
from sophonc.ir.types import DTYPES, QuantType, TensorType
from sophonc.ir.value import Value


class LineCursor:
    """The tokens of one line and a cursor over them.

    Knows the pieces a line is made of (literals, attribute dictionaries, tensor
    and quantized types); how lines follow each other is the parser's business.
    """

    def __init__(self, source: str, number: int, tokens: list[Token]) -> None:
        self.source = source
        self.number = number
        self.tokens = tokens
        self.pos = 0

    def error(self, cause: str) -> IRError:
        return IRError(f"{self.source}:{self.number}: {cause}")

    def peek(self) -> Token | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def at_kind(self, kind: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind == kind

    def at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind in ("punct", "word") and tok.text == text

    def next(self, expected: str) -> Token:
        tok = self.peek()
        if tok is None:
            raise self.error(f"expected {expected} at the end of the line")
        self.pos += 1
        return tok

    def expect(self, text: str) -> None:
        tok = self.next(f"'{text}'")
        if tok.kind not in ("punct", "word") or tok.text != text:
            raise self.error(f"expected '{text}' but found {quote(tok.text)}")

    def accept(self, text: str) -> bool:
        if self.at(text):
            self.pos += 1
            return True
        return False

    def take(self, kind: str, expected: str) -> Token:
        tok = self.next(expected)
        if tok.kind != kind:
            raise self.error(f"expected {expected} but found {quote(tok.text)}")
        return tok

    def end(self) -> None:
        tok = self.peek()
        if tok is not None:
            raise self.error(f"unexpected {quote(tok.text)} at column {tok.column}")

    def comma_list(self, close: str, item: Callable[[], object]) -> None:
        """Items separated by commas up to ``close`` (the opening token is consumed)."""
        if self.accept(close):
            return
        while True:
            item()
            if self.accept(close):
                return
            self.expect(",")

    # -- literals ----------------------------------------------------------------

    def word(self, expected: str) -> str:
        return self.take("word", expected).text

    def integer(self) -> int:
        text = self.word("an integer")
        if not INT_WORD.fullmatch(text):
            raise self.error(f"expected an integer but found {quote(text)}")
        return int(text)

    def real(self, *, allow_int: bool = False) -> float:
        text = self.word("a float")
        return self.float_word(text, allow_int=allow_int)

    def float_word(self, text: str, *, allow_int: bool = False) -> float:
        if text == "nan" and self.accept("("):
            bits = self.word("the bits of a nan")
            self.expect(")")
            try:
                return parse_nan_bits(bits)
            except ValueError as exc:
                raise self.error(str(exc)) from None
        if FLOAT_WORD.fullmatch(text) or (allow_int and INT_WORD.fullmatch(text)):
            return float(text)
        raise self.error(f"expected a float but found {quote(text)}")

    def attr(self) -> AttrValue:
        tok = self.next("an attribute value")
        if tok.kind == "str":
            return tok.value
        if tok.kind != "word":
            raise self.error(f"expected an attribute value but found {quote(tok.text)}")
        if tok.text in ("true", "false"):
            return tok.text == "true"
        if tok.text in ("ints", "floats", "strs"):
            return self.attr_list(tok.text)
        if INT_WORD.fullmatch(tok.text):
            return int(tok.text)
        return self.float_word(tok.text)

    def attr_list(self, kind: str) -> AttrValue:
        self.expect("[")
        items: list[object] = []
        if kind == "ints":
            self.comma_list("]", lambda: items.append(self.integer()))
        elif kind == "floats":
            self.comma_list("]", lambda: items.append(self.real(allow_int=True)))
        else:
            self.comma_list("]", lambda: items.append(self.take("str", "a string").value))
        return tuple(items)  # type: ignore[return-value]

    def attrs(self) -> dict[str, AttrValue]:
        """``{key = value, ...}``; the opening brace is still to be read."""
        self.expect("{")
        found: dict[str, AttrValue] = {}

        def entry() -> None:
            tok = self.next("an attribute name")
            if tok.kind not in ("word", "str"):
                raise self.error(f"expected an attribute name but found {quote(tok.text)}")
            if tok.value in found:
                raise self.error(f"attribute {quote(tok.value)} is given twice")
            self.expect("=")
            found[tok.value] = self.attr()

        self.comma_list("}", entry)
        return found

    # -- types -------------------------------------------------------------------

    def tensor_type(self) -> TensorType:
        self.expect("tensor")
        self.expect("<")
        text = self.word("a shape and dtype such as 1x3xf32")
        self.expect(">")
        *dims, dtype = text.split("x")
        if dtype not in DTYPES:
            known = ", ".join(DTYPES)
            raise self.error(f"unknown dtype {quote(dtype)} in tensor<{text}>; known: {known}")
        if dims == ["*"]:
            return TensorType(dtype, None)
        if not all(INT_WORD.fullmatch(d) for d in dims):
            raise self.error(f"bad shape in tensor<{text}>; write e.g. tensor<1x3x224x224xf32>")
        return TensorType(dtype, tuple(int(d) for d in dims))

    def quant_type(self) -> QuantType:
        self.expect("quant")
        self.expect("<")
        fields: dict[str, object] = {}

        def field() -> None:
            key = self.word("a quant field")
            if key in fields:
                raise self.error(f"quant field '{key}' is given twice")
            self.expect("=")
            if key in ("storage", "expressed"):
                tok = self.next(f"the {key} type")
                fields[key] = tok.value
            elif key == "scale":
                self.expect("[")
                scale: list[float] = []
                self.comma_list("]", lambda: scale.append(self.real(allow_int=True)))
                fields[key] = tuple(scale)
            elif key == "zero_point":
                self.expect("[")
                zero: list[int] = []
                self.comma_list("]", lambda: zero.append(self.integer()))
                fields[key] = tuple(zero)
            elif key in ("axis", "qmin", "qmax"):
                fields[key] = self.integer()
            else:
                raise self.error(f"unknown quant field {quote(key)}")

        self.comma_list(">", field)
        missing = [k for k in ("storage", "scale", "zero_point") if k not in fields]
        if missing:
            raise self.error(f"!quant<...> lacks {', '.join(missing)}")
        try:
            return QuantType(**fields)  # type: ignore[arg-type]
        except ValueError as exc:
            raise self.error(f"bad !quant<...>: {exc}") from None

    def value_type(self, name: str) -> Value:
        """``tensor<...> [!quant<...>] [{meta}]`` as a new value called ``name``."""
        ttype = self.tensor_type()
        quant = self.quant_type() if self.accept("!") else None
        value = Value(name, ttype, quant=quant)
        if self.at("{"):
            value.meta = self.attrs()
        return value
