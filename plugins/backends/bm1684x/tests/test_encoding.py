"""The program encoding ("SOPHPRG" v1): exact round trip, the documented byte layout,
and one-line ModelLoadErrors for every corruption.

``walk_documented`` below reads the bytes exactly as
``plugins/backends/bm1684x/docs/program-encoding.md`` describes them, independently
of the decoder, so the document and the code cannot drift apart.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import ml_dtypes
import numpy as np
import pytest

from sophonc.errors import ModelLoadError
from sophonc.ir import Graph, Module, Node, QuantType, TensorType, Value
from sophonc.ir.attrs import attr_kind
from sophonc_backend_bm1684x.codegen.encoding import decode_program, encode_program
from sophonc_backend_bm1684x.codegen.memory import COEFF, CTX, plan_memory

#: The dtype codes of version 1, as the document lists them.
DTYPE_CODES = {
    "bf16": 0, "bool": 1, "f16": 2, "f32": 3, "f64": 4, "i16": 5,
    "i32": 6, "i64": 7, "i8": 8, "u16": 9, "u32": 10, "u8": 11,
}  # fmt: skip
#: The attribute kind codes of version 1.
KIND_CODES = {"bool": 0, "int": 1, "float": 2, "str": 3, "ints": 4, "floats": 5, "strs": 6}

ATTRS: dict[str, object] = {
    "flag": True,
    "off": False,
    "count": -(2**40) - 3,
    "zero": 0,
    "ratio": 0.1,
    "tiny": 5e-324,
    "neg_zero": -0.0,
    "inf": math.inf,
    "label": "größe ✓ \u00e9",
    "empty_str": "",
    "pads": (1, -2, 3, 2**62),
    "scales": (0.1, 1 / 3, -2.5),
    "names": ("a", "ß", ""),
    "none": (),
}


#: Attributes of a net input (the preprocessing ``sophon transform`` records).
INPUT_META: dict[str, object] = {
    "pixel_format": "rgb",
    "mean": (0.0, 127.5, 0.1),
    "resize_dims": (),
    "keep_aspect_ratio": False,
    "pad_value": 0,
}


def q8(scale: float, zp: int = 0) -> QuantType:
    return QuantType("i8", (scale,), (zp,), qmin=-128, qmax=127)


def rich_program() -> Module:
    """Every dtype, every attribute kind, an omitted input, a two-output node, a scalar,
    a weight read twice, and net outputs in an order of their own (one a net input)."""
    x = Value("x", TensorType("f32", (2, 3)))
    idx = Value("idx", TensorType("i64", (4,)))
    w8 = Value("w8", TensorType("i8", (2, 2)), const=np.array([[1, -2], [127, -128]], np.int8))
    wbf = Value(
        "wbf", TensorType("bf16", (3,)), const=np.array([1.5, -0.125, 3.0], ml_dtypes.bfloat16)
    )
    w64 = Value("w64", TensorType("f64", ()), const=np.array(0.1, np.float64))
    wb = Value("wb", TensorType("bool", (2,)), const=np.array([True, False]))
    wu16 = Value("wu16", TensorType("u16", (2,)), const=np.array([65535, 7], np.uint16))
    a = Value("a_i8", TensorType("i8", (2, 3)), quant=q8(0.1 / 3, -7))
    b = Value(
        "b_u8", TensorType("u8", (2, 3)), quant=QuantType("u8", (1 / 255,), (0,), qmin=0, qmax=255)
    )
    n0 = Node("Cast", [x], [a], {}, name="cast0")
    n1 = Node("Step", [a, None, w8, wbf, w8], [b, Value("c", TensorType("f16", (3, 2)))], ATTRS)
    n2 = Node("Tail", [n1.outputs[1], idx, w64, wb, wu16], [Value("d", TensorType("i32", ()))])
    n3 = Node(
        "More", [n2.output], [
            Value("e", TensorType("u32", (1,))), Value("f", TensorType("i16", (2, 1, 1))),
            Value("g", TensorType("bf16", (0,))),
        ], {"mode": "x"},
    )  # fmt: skip
    outputs = [n3.outputs[1], x, n1.outputs[0], n2.output]
    x.meta.update(INPUT_META)
    b.meta["precision"] = "INT8"  # not a net input: not stored
    return Module("rich", Graph("rich", [x, idx], outputs, [n0, n1, n2, n3]))


def same_attr(a: object, b: object) -> bool:
    """Equal value, equal kind, and floats equal to the bit."""
    if attr_kind(a) != attr_kind(b) or type(a) is not type(b):  # type: ignore[arg-type]
        return False
    if isinstance(a, tuple):
        assert isinstance(b, tuple)
        return len(a) == len(b) and all(same_attr(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return struct.pack("<d", a) == struct.pack("<d", b)  # type: ignore[arg-type]
    return a == b


def table_order(program: Module) -> list[Value]:
    graph = program.graph
    return [*graph.inputs, *graph.weights(), *(o for n in graph.nodes for o in n.outputs)]


def assert_round_trip(program: Module) -> None:
    placement = plan_memory(program)
    data = encode_program(program, placement)
    decoded = decode_program(data, placement.coeff, "test.bmodel", "decoded")
    back = decoded.program
    assert decoded.slots == placement.slots
    original = {v.name: v for v in table_order(program)}
    restored = back.graph.values()
    assert sorted(restored) == sorted(original)
    for name, v in original.items():
        r = restored[name]
        assert r.dtype == v.dtype, name
        assert r.type.shape == v.type.shape, name
        assert (r.quant is None) == (v.quant is None), name
        if v.quant is not None:
            assert r.quant == v.quant, name
            assert struct.pack("<d", r.quant.scale[0]) == struct.pack("<d", v.quant.scale[0])
        assert (r.const is None) == (v.const is None), name
        if v.const is not None:
            assert r.const is not None
            assert r.const.dtype == v.const.dtype, name
            assert r.const.tobytes() == np.ascontiguousarray(v.const).tobytes(), name
    assert len(back.graph.nodes) == len(program.graph.nodes)
    for got, want in zip(back.graph.nodes, program.graph.nodes, strict=True):
        assert got.op_type == want.op_type
        assert got.name == want.name
        assert [None if v is None else v.name for v in got.inputs] == [
            None if v is None else v.name for v in want.inputs
        ]
        assert [v.name for v in got.outputs] == [v.name for v in want.outputs]
        assert sorted(got.attrs) == sorted(want.attrs)
        for key, value in want.attrs.items():
            assert same_attr(got.attrs[key], value), (want.name, key, got.attrs[key], value)
    assert [v.name for v in back.graph.inputs] == [v.name for v in program.graph.inputs]
    # net inputs keep their attributes; other values' attributes are not stored
    input_names = {v.name for v in program.graph.inputs}
    for name, v in original.items():
        r = restored[name]
        if name in input_names:
            assert sorted(r.meta) == sorted(v.meta), name
            for key, value in v.meta.items():
                assert same_attr(r.meta[key], value), (name, key)
        else:
            assert r.meta == {}, name
    assert [v.name for v in back.graph.outputs] == [v.name for v in program.graph.outputs]
    # decoded values are wired like the original: each output's producer is its node
    for node in back.graph.nodes:
        for out in node.outputs:
            assert out.producer is node
    assert back.metadata["chip"] == "bm1684x"
    assert back.name == "decoded"


def test_round_trip_of_every_dtype_attribute_kind_and_wiring() -> None:
    program = rich_program()
    assert_round_trip(program)
    decoded = decode_program(*_encoded(program), "t").program
    step = next(n for n in decoded.graph.nodes if n.op_type == "Step")
    # kinds survive: the bool is not an int, the empty tuple stays a tuple, -0.0 keeps its sign
    assert step.attrs["flag"] is True and step.attrs["off"] is False
    assert step.attrs["none"] == ()
    assert math.copysign(1.0, step.attrs["neg_zero"]) == -1.0  # type: ignore[arg-type]
    assert step.inputs[1] is None
    assert step.inputs[2] is step.inputs[4]  # one weight, one table entry


def _encoded(program: Module) -> tuple[bytes, bytes]:
    placement = plan_memory(program)
    return encode_program(program, placement), placement.coeff


@pytest.mark.parametrize("mode", ["INT8", "F16", "BF16", "F32"])
def test_round_trip_of_lowered_programs(mode: str, models: Any, flow: Any) -> None:
    for build in (models.conv_net, models.onnx_net, models.filter_net, models.deconv_net):
        assert_round_trip(flow.program(build, 1, mode))


def test_encoding_is_deterministic() -> None:
    assert _encoded(rich_program()) == _encoded(rich_program())


# ------------------------------------------------------------ the documented layout
class Cursor:
    """Reads little-endian fields, no padding, as the document says."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple[Any, ...]:
        out = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return out

    def u(self, fmt: str) -> Any:
        return self.take(fmt)[0]

    def string(self) -> str:
        n = self.u("I")
        raw = self.data[self.pos : self.pos + n]
        assert len(raw) == n
        self.pos += n
        return raw.decode("utf-8")


def attr(c: Cursor, kinds: dict[int, str]) -> object:
    """One attribute: a kind byte, then its payload."""
    kind = kinds[c.u("B")]
    if kind == "bool":
        return bool(c.u("B"))
    if kind in ("int", "float"):
        return c.u("q" if kind == "int" else "d")
    if kind == "str":
        return c.string()
    count = c.u("I")
    if kind == "strs":
        return tuple(c.string() for _ in range(count))
    return c.take(f"{count}{'q' if kind == 'ints' else 'd'}")


def walk_documented(data: bytes) -> dict[str, Any]:
    """The encoding read field by field as docs/program-encoding.md lays it out."""
    c = Cursor(data)
    assert data[:8] == b"SOPHPRG\x00"
    c.pos = 8
    version, n_values, n_nodes = c.take("III")
    codes = {v: k for k, v in DTYPE_CODES.items()}
    kinds = {v: k for k, v in KIND_CODES.items()}
    values = []
    for _ in range(n_values):
        name = c.string()
        dtype, region, rank = c.take("BBB")
        shape = c.take(f"{rank}q")
        offset, size = c.take("QQ")
        quant = None
        if c.u("B"):
            storage = c.string()
            scale = c.u("d")
            quant = (storage, scale, *c.take("iii"))
        meta = {}
        for _ in range(c.u("H")):
            key = c.string()
            meta[key] = attr(c, kinds)
        values.append((name, codes[dtype], region, shape, offset, size, quant, meta))
    nodes = []
    for _ in range(n_nodes):
        op, name = c.string(), c.string()
        n_in, n_out, n_attr = c.take("HHH")
        ins, outs = c.take(f"{n_in}i"), c.take(f"{n_out}I")
        attrs = {}
        for _ in range(n_attr):
            key = c.string()
            attrs[key] = attr(c, kinds)
        nodes.append((op, name, ins, outs, attrs))
    net_in = c.take(f"{c.u('I')}I")
    net_out = c.take(f"{c.u('I')}I")
    assert c.pos == len(data), "bytes left after the net outputs"
    return {"version": version, "values": values, "nodes": nodes, "in": net_in, "out": net_out}


def test_bytes_follow_the_documented_layout() -> None:
    program = rich_program()
    placement = plan_memory(program)
    data = encode_program(program, placement)
    doc = walk_documented(data)
    assert doc["version"] == 1
    order = table_order(program)
    assert [v[0] for v in doc["values"]] == [v.name for v in order]
    inputs = program.graph.inputs
    for (name, dtype, region, shape, offset, size, quant, meta), v in zip(
        doc["values"], order, strict=True
    ):
        stored = v.meta if any(v is i for i in inputs) else {}
        assert list(meta) == sorted(stored)  # attributes in key order
        for key, value in stored.items():
            assert same_attr(meta[key], value), key
        assert dtype == v.dtype
        assert (region, offset, size) == placement.slots[name]
        assert region == (COEFF if v.const is not None else CTX)
        assert shape == v.type.shape
        if v.quant is None:
            assert quant is None
        else:
            q = v.quant
            assert quant == (q.storage, q.scale[0], q.zero_point[0], q.qmin, q.qmax)
    index = {id(v): i for i, v in enumerate(order)}
    for (op, name, ins, outs, attrs), node in zip(doc["nodes"], program.graph.nodes, strict=True):
        assert (op, name) == (node.op_type, node.name)
        assert list(ins) == [-1 if v is None else index[id(v)] for v in node.inputs]
        assert list(outs) == [index[id(v)] for v in node.outputs]
        assert list(attrs) == sorted(node.attrs)  # attributes in key order
        for key, value in node.attrs.items():
            assert same_attr(attrs[key], value), key
    assert list(doc["in"]) == [index[id(v)] for v in program.graph.inputs]
    assert list(doc["out"]) == [index[id(v)] for v in program.graph.outputs]


def test_header_bytes_by_hand() -> None:
    # one input, one Cast node: 2 values, 1 node
    x = Value("x", TensorType("f32", (1,)))
    x.meta["mean"] = (0.5,)
    node = Node("Cast", [x], [Value("y", TensorType("f16", (1,)))], name="n")
    program = Module("m", Graph("m", [x], [node.output], [node]))
    data, _ = _encoded(program)
    want = (
        b"SOPHPRG\x00" + bytes([1, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0])
        # value 0: name "x", f32 (3), ctx (0), rank 1, dim 1, offset 0, 4 bytes, no quant,
        + bytes([1, 0, 0, 0]) + b"x" + bytes([3, 0, 1]) + (1).to_bytes(8, "little")
        + (0).to_bytes(8, "little") + (4).to_bytes(8, "little") + bytes([0])
        # ... and its attributes: 1, "mean" of kind floats (5), 1 item, 0.5
        + bytes([1, 0]) + bytes([4, 0, 0, 0]) + b"mean" + bytes([5]) + bytes([1, 0, 0, 0])
        + struct.pack("<d", 0.5)
        # value 1: "y", f16 (2), ctx, rank 1, dim 1, offset 64 (x is still live), 2 bytes,
        # no quant, no attributes
        + bytes([1, 0, 0, 0]) + b"y" + bytes([2, 0, 1]) + (1).to_bytes(8, "little")
        + (64).to_bytes(8, "little") + (2).to_bytes(8, "little") + bytes([0]) + bytes([0, 0])
        # node: "Cast", "n", 1 input, 1 output, 0 attributes, input 0, output 1
        + bytes([4, 0, 0, 0]) + b"Cast" + bytes([1, 0, 0, 0]) + b"n"
        + bytes([1, 0, 1, 0, 0, 0]) + bytes([0, 0, 0, 0]) + bytes([1, 0, 0, 0])
        # net inputs [0], net outputs [1]
        + bytes([1, 0, 0, 0, 0, 0, 0, 0]) + bytes([1, 0, 0, 0, 1, 0, 0, 0])
    )  # fmt: skip
    assert data == want


# ------------------------------------------------------------------------- corruption
def small_program() -> Module:
    x = Value("x", TensorType("f32", (2,)))
    w = Value("w", TensorType("i8", (2,)), const=np.array([3, -4], np.int8))
    y = Value("y", TensorType("i8", (2,)), quant=q8(0.5))
    n0 = Node("Cast", [x], [y])
    n1 = Node("Lut", [y, w], [Value("z", TensorType("i8", (2,)), quant=q8(0.25))], {"k": (1, 2)})
    return Module("small", Graph("small", [x], [n1.output], [n0, n1]))


def assert_one_line_load_error(data: bytes, coeff: bytes, match: str | None = None) -> str:
    with pytest.raises(ModelLoadError, match=match) as info:
        decode_program(data, coeff, "bad.bmodel")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("bad.bmodel: ")
    return message


def test_every_truncation_is_a_one_line_load_error() -> None:
    data, coeff = _encoded(small_program())
    for cut in range(len(data)):
        assert_one_line_load_error(data[:cut], coeff)


def test_a_flipped_magic_byte_says_the_program_is_not_ours() -> None:
    data, coeff = _encoded(small_program())
    for i in range(8):
        bad = bytearray(data)
        bad[i] ^= 0x20
        message = assert_one_line_load_error(bytes(bad), coeff, "no sophonc BM1684X program")
        assert "compiled" in message


def test_another_version_asks_to_recompile() -> None:
    data, coeff = _encoded(small_program())
    for version in (0, 2, 0xFFFFFFFF):
        bad = data[:8] + struct.pack("<I", version) + data[12:]
        message = assert_one_line_load_error(bad, coeff, f"version {version}")
        assert "recompile" in message


def test_trailing_bytes_and_missing_weights_are_load_errors() -> None:
    data, coeff = _encoded(small_program())
    assert_one_line_load_error(data + b"\0", coeff, "trailing bytes")
    assert_one_line_load_error(data, coeff[:1], "outside the coefficient data")
    assert_one_line_load_error(data, b"", "outside the coefficient data")


def test_bad_codes_are_load_errors() -> None:
    data, coeff = _encoded(small_program())
    # value 0 starts at byte 20: name length (4) + "x" (1), then its dtype code
    dtype_at = 20 + 4 + 1
    assert data[dtype_at] == DTYPE_CODES["f32"]
    bad = bytearray(data)
    bad[dtype_at] = 200
    assert_one_line_load_error(bytes(bad), coeff, "unknown dtype")
    # the attribute kind byte follows the key "k" of the Lut node
    kind_at = data.index(b"\x01\x00\x00\x00k") + 5
    assert data[kind_at] == KIND_CODES["ints"]
    bad = bytearray(data)
    bad[kind_at] = 9
    assert_one_line_load_error(bytes(bad), coeff, "unknown attribute kind")


@pytest.mark.parametrize("seed", range(4))
def test_random_corruption_never_raises_anything_but_a_load_error(seed: int) -> None:
    program = small_program() if seed % 2 else rich_program()
    data, coeff = _encoded(program)
    rng = np.random.default_rng(seed)
    for _ in range(1500):
        bad = bytearray(data)
        for _ in range(int(rng.integers(1, 4))):
            at = int(rng.integers(8, len(bad)))
            width = int(rng.integers(1, 9))
            bad[at : at + width] = rng.integers(0, 256, size=width, dtype=np.uint8).tobytes()
        try:
            decode_program(bytes(bad[: len(data)]), coeff, "bad.bmodel")
        except ModelLoadError as exc:
            assert str(exc).startswith("bad.bmodel: ")


def test_a_corrupt_name_does_not_break_the_error_onto_two_lines() -> None:
    # The storage type "i8" of y's quantization, length-prefixed, becomes "\n8": the
    # decoder must still answer with one line (the CLI prints errors as one line).
    data, coeff = _encoded(small_program())
    storage = struct.pack("<I", 2) + b"i8"
    assert data.count(storage) == 2  # y's and z's quantized types
    bad = data.replace(storage, struct.pack("<I", 2) + b"\n8", 1)
    assert_one_line_load_error(bad, coeff)
