"""The words of the IR text form: names, strings, numbers and the tokens of a line.

The printer and the parser share this module so that every literal has exactly one
written form and reading it gives back the same Python value, bit for bit:

- a name is bare when it only uses ``[A-Za-z0-9_.]`` and quoted otherwise, so
  TPU-MLIR names such as ``/backbone/conv1/Conv_output_0_Conv`` stay readable;
- a string is double-quoted; backslash, quote and every character that is not
  printable (control characters, line separators, lone surrogates, non-ASCII
  spaces) are escaped, so a printed line never contains a line break and the text
  always encodes as UTF-8;
- a float is written by ``repr`` (the shortest text that reads back to the same
  bits, ``-0.0``, ``inf`` and ``nan`` included); a NaN with a sign or payload other
  than Python's own ``nan`` is written with its bits, ``nan(0x7ff8000000000001)``.
  An int never contains ``.``, ``e``, ``inf`` or ``nan``, so kinds stay apart.
"""

from __future__ import annotations

import re
import struct
from typing import NamedTuple

BARE_NAME = re.compile(r"[A-Za-z0-9_.]+")
INT_WORD = re.compile(r"[+-]?[0-9]+")
FLOAT_WORD = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*(?:e[+-]?[0-9]+)?|[0-9]+e[+-]?[0-9]+|inf|nan)")
NAN_BITS_WORD = re.compile(r"0x[0-9a-f]{16}")

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
_UNESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
_HEX_ESCAPE_WIDTH = {"x": 2, "u": 4, "U": 8}


def _bits(value: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", value))[0])


def _from_bits(bits: int) -> float:
    return float(struct.unpack("<d", struct.pack("<Q", bits))[0])


#: The bits of Python's ``float("nan")``, the NaN written as plain ``nan``.
PLAIN_NAN_BITS = _bits(float("nan"))


def quote(text: str) -> str:
    """``text`` as a double-quoted string literal on one line."""
    out = ['"']
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    out.append('"')
    return "".join(out)


def unquote(literal: str) -> str:
    """The string a quoted literal stands for; ValueError for a bad escape."""
    body = literal[1:-1]
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        code = body[i + 1] if i + 1 < len(body) else ""
        if code in _UNESCAPES:
            out.append(_UNESCAPES[code])
            i += 2
        elif code in _HEX_ESCAPE_WIDTH:
            digits = body[i + 2 : i + 2 + _HEX_ESCAPE_WIDTH[code]]
            if len(digits) != _HEX_ESCAPE_WIDTH[code] or not re.fullmatch(r"[0-9a-fA-F]+", digits):
                raise ValueError(f"bad escape {quote(body[i : i + 2 + len(digits)])}")
            point = int(digits, 16)
            if point > 0x10FFFF:
                raise ValueError(f"escape \\{code}{digits} is beyond the last code point")
            out.append(chr(point))
            i += 2 + len(digits)
        else:
            raise ValueError(f"unknown escape {quote(body[i : i + 2])}")
    return "".join(out)


def format_name(sigil: str, name: str) -> str:
    """A value (``%``) or symbol (``@``) reference, or a bare key (no sigil)."""
    return sigil + (name if BARE_NAME.fullmatch(name) else quote(name))


def format_float(value: float) -> str:
    """The canonical text of a float; reads back to the same 64 bits."""
    value = float(value)
    if value != value:
        bits = _bits(value)
        return "nan" if bits == PLAIN_NAN_BITS else f"nan(0x{bits:016x})"
    return float.__repr__(value)


def parse_nan_bits(word: str) -> float:
    """The NaN whose bits ``word`` (``0x`` and 16 hex digits) spells."""
    if not NAN_BITS_WORD.fullmatch(word):
        raise ValueError(f"nan payload must be 0x and 16 hex digits, not {quote(word)}")
    value = _from_bits(int(word, 16))
    if value == value:
        raise ValueError(f"{word} is not the bit pattern of a NaN")
    return value


class Token(NamedTuple):
    """One token: its kind, its source text and, for names and strings, its value.

    Kinds: ``str`` (a string literal), ``value`` (``%name``), ``symbol``
    (``@name``), ``word`` (keywords, numbers, shapes) and ``punct``.
    """

    kind: str
    text: str
    value: str
    column: int


_STRING = r'"(?:[^"\\]|\\.)*"'
_TOKEN = re.compile(
    rf"""(?P<space>\s+)
    |(?P<str>{_STRING})
    |(?P<value>%(?:[A-Za-z0-9_.]+|{_STRING}))
    |(?P<symbol>@(?:[A-Za-z0-9_.]+|{_STRING}))
    |(?P<punct>->|[(){{}}\[\]<>,=:!])
    |(?P<word>[A-Za-z0-9_.+\-*]+)""",
    re.VERBOSE,
)


def tokenize(line: str) -> list[Token]:
    """The tokens of one line; ValueError naming the column of anything unreadable."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(line):
        match = _TOKEN.match(line, pos)
        if match is None:
            what = "an unterminated string" if line[pos] == '"' else quote(line[pos])
            raise ValueError(f"column {pos + 1}: unexpected {what}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind != "space":
            value = text
            if kind == "str":
                value = unquote(text)
            elif kind in ("value", "symbol"):
                name = text[1:]
                value = unquote(name) if name.startswith('"') else name
            tokens.append(Token(kind, text, value, pos + 1))
        pos = match.end()
    return tokens
