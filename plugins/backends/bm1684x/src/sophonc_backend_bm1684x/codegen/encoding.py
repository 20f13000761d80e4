"""The byte encoding of a program inside the bmodel (format "SOPHPRG", version 1).

Net inputs keep their attributes (the preprocessing ``sophon transform``
recorded), so ``sophon run`` can feed a picture to a compiled model.

This is sophonc's own documented encoding of the lowered program (see
``plugins/backends/bm1684x/docs/program-encoding.md``), stored as the net's
command group; it runs in our simulator, not on silicon. The program's meaning
lives in :mod:`sophonc_backend_bm1684x.program`; this module only turns it into
bytes and back, exactly: every float is stored as float64, so decoding gives the
same attributes, quantized types and shapes that were encoded.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

from sophonc.errors import ModelLoadError
from sophonc.ir.attrs import AttrValue, attr_kind
from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.types import QuantType, TensorType, numpy_dtype
from sophonc.ir.value import Value
from sophonc_backend_bm1684x.codegen.memory import COEFF, Placement

MAGIC = b"SOPHPRG\0"
VERSION = 1

#: Element type codes of the value table (fixed: part of the format).
_DTYPE_CODES = {
    "bf16": 0, "bool": 1, "f16": 2, "f32": 3, "f64": 4, "i16": 5, "i32": 6, "i64": 7,
    "i8": 8, "u16": 9, "u32": 10, "u8": 11,
}  # fmt: skip
_DTYPE_NAMES = {i: name for name, i in _DTYPE_CODES.items()}
_KIND_CODES = {
    kind: i for i, kind in enumerate(("bool", "int", "float", "str", "ints", "floats", "strs"))
}
_KIND_NAMES = {i: kind for kind, i in _KIND_CODES.items()}


class _Writer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def pack(self, fmt: str, *values: object) -> None:
        self.parts.append(struct.pack("<" + fmt, *values))

    def text(self, s: str) -> None:
        raw = s.encode("utf-8", errors="surrogatepass")
        self.pack("I", len(raw))
        self.parts.append(raw)

    def attr(self, value: AttrValue) -> None:
        kind = attr_kind(value)
        self.pack("B", _KIND_CODES[kind])
        if kind == "bool":
            self.pack("B", int(bool(value)))
        elif kind == "int":
            self.pack("q", value)
        elif kind == "float":
            self.pack("d", value)
        elif kind == "str":
            assert isinstance(value, str)
            self.text(value)
        else:
            assert isinstance(value, tuple)
            self.pack("I", len(value))
            for item in value:
                if kind == "ints":
                    self.pack("q", item)
                elif kind == "floats":
                    self.pack("d", item)
                else:
                    assert isinstance(item, str)
                    self.text(item)


def encode_program(program: Module, placement: Placement) -> bytes:
    """The program's bytes: tensor table (with addresses), nodes, net inputs/outputs."""
    graph = program.graph
    values = list(graph.inputs) + list(graph.weights())
    values += [out for node in graph.nodes for out in node.outputs]
    index = {id(v): i for i, v in enumerate(values)}
    w = _Writer()
    w.parts.append(MAGIC)
    w.pack("III", VERSION, len(values), len(graph.nodes))
    for v in values:
        region, offset, size = placement.slots[v.name]
        shape = v.shape
        w.text(v.name)
        w.pack("BBB", _DTYPE_CODES[v.dtype], region, len(shape))
        w.pack(f"{len(shape)}q", *shape)
        w.pack("QQ", offset, size)
        q = v.quant
        if q is not None and (q.axis is not None or len(q.scale) != 1):
            raise ValueError(
                f"value '{v.name}' is quantized per channel; the encoding stores one scale"
            )
        w.pack("B", 0 if q is None else 1)
        if q is not None:
            w.text(q.storage)
            w.pack("d", q.scale[0])
            w.pack("iii", q.zero_point[0], q.qmin, q.qmax)
        meta = v.meta if any(v is i for i in graph.inputs) else {}
        w.pack("H", len(meta))
        for key in sorted(meta):
            w.text(key)
            w.attr(meta[key])
    for node in graph.nodes:
        w.text(node.op_type)
        w.text(node.name)
        w.pack("HHH", len(node.inputs), len(node.outputs), len(node.attrs))
        w.pack(f"{len(node.inputs)}i", *(-1 if v is None else index[id(v)] for v in node.inputs))
        w.pack(f"{len(node.outputs)}I", *(index[id(o)] for o in node.outputs))
        for key in sorted(node.attrs):
            w.text(key)
            w.attr(node.attrs[key])
    w.pack("I", len(graph.inputs))
    w.pack(f"{len(graph.inputs)}I", *(index[id(v)] for v in graph.inputs))
    w.pack("I", len(graph.outputs))
    w.pack(f"{len(graph.outputs)}I", *(index[id(v)] for v in graph.outputs))
    return b"".join(w.parts)


class _Reader:
    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.pos = 0
        self.source = source

    def fail(self, what: str) -> ModelLoadError:
        return ModelLoadError(
            f"{self.source}: the BM1684X program is corrupt ({what} at byte {self.pos}); "
            f"recompile the model"
        )

    def unpack(self, fmt: str) -> tuple[object, ...]:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.data):
            raise self.fail("truncated")
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += size
        return values

    def one(self, fmt: str) -> int:
        (value,) = self.unpack(fmt)
        assert isinstance(value, int)
        return value

    def real(self) -> float:
        (value,) = self.unpack("d")
        assert isinstance(value, float)
        return value

    def text(self) -> str:
        n = self.one("I")
        if self.pos + n > len(self.data):
            raise self.fail("truncated string")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        try:
            return raw.decode("utf-8", errors="surrogatepass")
        except UnicodeDecodeError:
            raise self.fail("bad string") from None

    def attr(self) -> AttrValue:
        kind = _KIND_NAMES.get(self.one("B"))
        if kind is None:
            raise self.fail("unknown attribute kind")
        if kind == "bool":
            return bool(self.one("B"))
        if kind == "int":
            return self.one("q")
        if kind == "float":
            return self.real()
        if kind == "str":
            return self.text()
        n = self.one("I")
        if n > len(self.data):
            raise self.fail("bad list length")
        if kind == "ints":
            return tuple(self.one("q") for _ in range(n))
        if kind == "floats":
            return tuple(self.real() for _ in range(n))
        return tuple(self.text() for _ in range(n))


@dataclass(frozen=True)
class DecodedProgram:
    """A program read back from bytes, with each value's (region, offset, size)."""

    program: Module
    slots: dict[str, tuple[int, int, int]]


def decode_program(data: bytes, coeff: bytes, source: str, name: str = "model") -> DecodedProgram:
    """Rebuild the program (weights read from ``coeff``) and its placement."""
    r = _Reader(data, source)
    if data[: len(MAGIC)] != MAGIC:
        raise ModelLoadError(
            f"{source}: the bmodel holds no sophonc BM1684X program (it was not compiled "
            f"by sophonc); run it with the tool that compiled it"
        )
    r.pos = len(MAGIC)
    version, n_values, n_nodes = (int(x) for x in r.unpack("III"))  # type: ignore[call-overload]
    if version != VERSION:
        raise ModelLoadError(
            f"{source}: program encoding version {version}; this sophonc reads version "
            f"{VERSION}: recompile the model with this sophonc"
        )
    values: list[Value] = []
    slots: dict[str, tuple[int, int, int]] = {}
    try:
        for _ in range(n_values):
            vname = r.text()
            code, region, rank = (int(x) for x in r.unpack("BBB"))  # type: ignore[call-overload]
            dtype = _DTYPE_NAMES.get(code)
            if dtype is None:
                raise r.fail("unknown dtype")
            shape = tuple(int(d) for d in r.unpack(f"{rank}q"))  # type: ignore[call-overload]
            offset, size = (int(x) for x in r.unpack("QQ"))  # type: ignore[call-overload]
            quant = None
            if r.one("B"):
                storage = r.text()
                scale = r.real()
                zp, qmin, qmax = (int(x) for x in r.unpack("iii"))  # type: ignore[call-overload]
                quant = QuantType(storage, (scale,), (zp,), qmin=qmin, qmax=qmax)
            meta = {}
            for _ in range(r.one("H")):
                key = r.text()
                meta[key] = r.attr()
            ttype = TensorType(dtype, shape)
            const = None
            if region == COEFF:
                if offset + size > len(coeff):
                    raise r.fail(f"weight {vname!r} outside the coefficient data")
                const = np.frombuffer(
                    coeff, dtype=numpy_dtype(dtype), count=ttype.numel, offset=offset
                ).reshape(shape)
            v = Value(vname, ttype, const=const, quant=quant)
            v.meta.update(meta)
            values.append(v)
            slots[vname] = (region, offset, size)
        nodes: list[Node] = []
        for _ in range(n_nodes):
            op_type = r.text()
            node_name = r.text()
            n_in, n_out, n_attrs = (int(x) for x in r.unpack("HHH"))  # type: ignore[call-overload]
            ins = [int(i) for i in r.unpack(f"{n_in}i")]  # type: ignore[call-overload]
            outs = [int(i) for i in r.unpack(f"{n_out}I")]  # type: ignore[call-overload]
            attrs = {}
            for _ in range(n_attrs):
                key = r.text()
                attrs[key] = r.attr()
            inputs = [None if i < 0 else values[i] for i in ins]
            nodes.append(Node(op_type, inputs, [values[i] for i in outs], attrs, name=node_name))
        graph_inputs = [values[int(i)] for i in r.unpack(f"{r.one('I')}I")]  # type: ignore[call-overload]
        graph_outputs = [values[int(i)] for i in r.unpack(f"{r.one('I')}I")]  # type: ignore[call-overload]
    except (IndexError, ValueError) as exc:
        raise r.fail(f"inconsistent table: {' '.join(repr(str(exc)).split())}") from None
    if r.pos != len(data):
        raise r.fail("trailing bytes")
    graph = Graph(name, graph_inputs, graph_outputs, nodes)
    return DecodedProgram(Module(name, graph, {"chip": "bm1684x"}), slots)
