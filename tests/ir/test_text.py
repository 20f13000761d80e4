"""The IR text form and its weight file: exact round trips, canonical text, errors.

Equality of modules is checked through :func:`describe`, which turns a module into
plain data where floats are their bit patterns, attribute values carry their kind
and every value reference says where the value comes from (graph input, weight or
which output of which node), so "equal" means equal names, kinds, bits and wiring.
"""

from __future__ import annotations

import math
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import ml_dtypes
import numpy as np
import numpy.typing as npt
import pytest

import sophonc.ir.text as text_module
from sophonc.errors import IRError, SophonError
from sophonc.ir import DTYPES, Graph, Module, Node, QuantType, TensorType, Value
from sophonc.ir.attrs import AttrValue
from sophonc.ir.text import load_module, parse_module, print_module, save_module
from sophonc.npzfile import read_npz, write_npz

# -- describing modules as comparable data ------------------------------------------


def _bits(x: float) -> int:
    return int(struct.unpack("<Q", struct.pack("<d", float(x)))[0])


def _kinded(value: object) -> object:
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, float):
        return ("float", _bits(value))
    if isinstance(value, str):
        return ("str", value)
    assert isinstance(value, tuple)
    return ("tuple", tuple(_kinded(v) for v in value))


def _attrs(attrs: dict[str, AttrValue]) -> object:
    return sorted((k, _kinded(v)) for k, v in attrs.items())


def _quant(q: QuantType | None) -> object:
    if q is None:
        return None
    scale = tuple(_bits(s) for s in q.scale)
    return (q.storage, q.expressed, scale, q.zero_point, q.axis, q.qmin, q.qmax)


def _value(v: Value) -> object:
    data = None if v.const is None else (str(v.const.dtype), v.const.shape, v.const.tobytes())
    return (v.name, v.type, _quant(v.quant), _attrs(v.meta), data)


def describe(module: Module) -> dict[str, Any]:
    g = module.graph
    where: dict[int, object] = {}
    for i, v in enumerate(g.inputs):
        where[id(v)] = ("input", i)
    for w in g.weights():
        where[id(w)] = ("weight", w.name)
    for i, n in enumerate(g.nodes):
        for out in n.outputs:
            where[id(out)] = ("node", i, out.index)

    def ref(v: Value | None) -> object:
        return None if v is None else where[id(v)]

    return {
        "name": module.name,
        "metadata": _attrs(module.metadata),
        "graph": g.name,
        "inputs": [_value(v) for v in g.inputs],
        "weights": [_value(w) for w in g.weights()],
        "nodes": [
            (
                n.op_type,
                n.name,
                _attrs(n.attrs),
                [ref(v) for v in n.inputs],
                [_value(o) for o in n.outputs],
            )
            for n in g.nodes
        ],
        "outputs": [ref(v) for v in g.outputs],
    }


def check_use_lists(module: Module) -> None:
    for node in module.graph.nodes:
        for i, v in enumerate(node.inputs):
            if v is not None:
                assert any(u.node is node and u.index == i for u in v.uses())
        for out in node.outputs:
            assert out.producer is node


def weights_of(module: Module) -> dict[str, npt.NDArray[np.generic]]:
    return {w.name: w.const for w in module.graph.weights() if w.const is not None}


def roundtrip(module: Module) -> Module:
    text = print_module(module)
    parsed = parse_module(text, weights_of(module))
    assert print_module(parsed) == text
    assert describe(parsed) == describe(module)
    check_use_lists(parsed)
    return parsed


# -- random modules -------------------------------------------------------------------

NAME_PIECES = [
    "conv", "Relu", "/backbone/conv1/Conv_output_0_Conv", "a.b", "x:0", "with space",
    'q"uote', "back\\slash", "new\nline", "tab\t", "cr\r", "é", "中文", "😀", "\u2028",
    "\x00", "\x7f", "\ud800", "\u3000", "%", "@", "{}", "=", ",", "none", "weight",
    "return", "loc", "true", "1", "-1", "nan", "tensor<1xf32>", "!quant", "//", "",
]  # fmt: skip
NAN_PAYLOAD = struct.unpack("<d", struct.pack("<Q", 0x7FF8000000000123))[0]
SPECIAL_FLOATS = [
    0.0, -0.0, math.inf, -math.inf, math.nan, -math.nan, NAN_PAYLOAD, 5e-324,
    1.7976931348623157e308, 1e16, 1e-5, 0.1, 2.5, -3.0,
]  # fmt: skip
SPECIAL_INTS = [0, 1, -1, 2**31, -(2**63), 2**64 + 5, 10**30]


def _pick(rng: np.random.Generator, items: list[Any]) -> Any:
    return items[int(rng.integers(len(items)))]


def rand_text(rng: np.random.Generator) -> str:
    return "".join(_pick(rng, NAME_PIECES) for _ in range(int(rng.integers(0, 4))))


def storable(name: str) -> str:
    """A weight name a zip archive can hold (no NUL, no lone surrogate)."""
    return name.replace("\x00", "0").replace("\ud800", "D")


class Names:
    """Unique value names drawn from awkward pieces."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def __call__(self, *, storable_only: bool = False) -> str:
        name = rand_text(self.rng)
        if storable_only:
            name = storable(name)
        while name in self.used:
            name += _pick(self.rng, ["_", "/", "x", "é"])
        self.used.add(name)
        return name


def rand_float(rng: np.random.Generator) -> float:
    if rng.random() < 0.4:
        return float(_pick(rng, SPECIAL_FLOATS))
    return float(rng.normal() * 10.0 ** int(rng.integers(-40, 40)))


def rand_int(rng: np.random.Generator) -> int:
    return int(_pick(rng, SPECIAL_INTS)) if rng.random() < 0.3 else int(rng.integers(-1000, 1000))


def rand_attr(rng: np.random.Generator) -> AttrValue:
    kind = _pick(rng, ["bool", "int", "float", "str", "ints", "floats", "strs"])
    count = int(rng.integers(1, 5))
    if kind == "bool":
        return bool(rng.integers(2))
    if kind == "int":
        return rand_int(rng)
    if kind == "float":
        return rand_float(rng)
    if kind == "str":
        return rand_text(rng)
    if kind == "ints":
        return tuple(rand_int(rng) for _ in range(int(rng.integers(0, 5))))
    if kind == "floats":
        return tuple(rand_float(rng) for _ in range(count))
    return tuple(rand_text(rng) for _ in range(count))


def rand_attrs(rng: np.random.Generator, most: int = 4) -> dict[str, AttrValue]:
    return {rand_text(rng): rand_attr(rng) for _ in range(int(rng.integers(0, most + 1)))}


def rand_shape(rng: np.random.Generator) -> tuple[int, ...]:
    return tuple(int(d) for d in rng.integers(0, 4, size=int(rng.integers(0, 4))))


def rand_type(rng: np.random.Generator) -> TensorType:
    dtype = _pick(rng, list(DTYPES))
    return TensorType(dtype, None if rng.random() < 0.2 else rand_shape(rng))


def rand_quant(rng: np.random.Generator) -> QuantType | None:
    if rng.random() < 0.6:
        return None
    axis = None if rng.random() < 0.5 else int(rng.integers(-1, 4))
    n = 1 if axis is None else int(rng.integers(1, 5))
    qmin = int(rng.integers(-200, 10))
    return QuantType(
        storage=_pick(rng, list(DTYPES)),
        scale=tuple(rand_float(rng) for _ in range(n)),
        zero_point=tuple(rand_int(rng) for _ in range(n)),
        axis=axis,
        qmin=qmin,
        qmax=qmin + int(rng.integers(0, 300)),
        expressed=_pick(rng, ["f32", "f16", "bf16", "my type", 'q"', rand_text(rng)]),
    )


def rand_value(rng: np.random.Generator, name: str) -> Value:
    value = Value(name, rand_type(rng), quant=rand_quant(rng))
    if rng.random() < 0.4:
        value.meta = rand_attrs(rng, 3)
    return value


def rand_data(rng: np.random.Generator, dtype: str, shape: tuple[int, ...]) -> npt.NDArray[Any]:
    np_dtype = np.dtype(DTYPES[dtype])
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        return rng.integers(info.min, info.max, size=shape, dtype=np_dtype, endpoint=True)
    data = rng.normal(size=shape).astype(np_dtype)
    if data.size:
        with np.errstate(all="ignore"):  # huge floats become inf in f16
            data.reshape(-1)[0] = np.array(rand_float(rng)).astype(np_dtype)
    return data


def rand_weight(rng: np.random.Generator, name: str) -> Value:
    dtype = _pick(rng, list(DTYPES))
    shape = rand_shape(rng)
    declared = TensorType(dtype, None if rng.random() < 0.1 else shape)
    value = Value(name, declared, const=rand_data(rng, dtype, shape), quant=rand_quant(rng))
    if rng.random() < 0.3:
        value.meta = rand_attrs(rng, 3)
    return value


def random_module(rng: np.random.Generator, *, for_files: bool = False) -> Module:
    names = Names(rng)
    inputs = [rand_value(rng, names()) for _ in range(int(rng.integers(0, 4)))]
    weight_names = [names(storable_only=for_files) for _ in range(int(rng.integers(0, 5)))]
    pool: list[Value] = inputs + [rand_weight(rng, n) for n in weight_names]
    nodes: list[Node] = []
    for _ in range(int(rng.integers(0, 7))):
        reads = [
            None if rng.random() < 0.2 or not pool else _pick(rng, pool)
            for _ in range(int(rng.integers(0, 5)))
        ]
        outs = [rand_value(rng, names()) for _ in range(_pick(rng, [0, 1, 1, 1, 2, 3]))]
        name = None if rng.random() < 0.6 else rand_text(rng)
        node = Node(rand_text(rng), reads, outs, rand_attrs(rng), name=name)
        nodes.append(node)
        pool.extend(outs)
    outputs = [_pick(rng, pool) for _ in range(int(rng.integers(0, 4)))] if pool else []
    graph = Graph(rand_text(rng), inputs, outputs, nodes)
    return Module(rand_text(rng), graph, rand_attrs(rng))


# -- round trips --------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(300))
def test_random_modules_round_trip_through_text(seed: int) -> None:
    roundtrip(random_module(np.random.default_rng(seed)))


@pytest.mark.parametrize("seed", range(40))
def test_random_modules_round_trip_through_files(seed: int, tmp_path: Path) -> None:
    module = random_module(np.random.default_rng(1000 + seed), for_files=True)
    text_path, weight_path = tmp_path / "m.mlir", tmp_path / "m_weight.npz"
    save_module(module, text_path, weight_path)
    assert module.metadata["weight_file"] == "m_weight.npz"
    assert text_path.read_text(encoding="utf-8") == print_module(module)
    loaded = load_module(text_path)
    assert describe(loaded) == describe(module)
    assert print_module(loaded) == print_module(module)
    stored = read_npz(weight_path)
    assert list(stored) == [w.name for w in module.graph.weights()]
    for w in module.graph.weights():
        assert w.const is not None
        assert stored[w.name].shape == w.const.shape
        assert stored[w.name].tobytes() == w.const.tobytes()
    assert sorted(os.listdir(tmp_path)) == ["m.mlir", "m_weight.npz"]


def tiny() -> Module:
    """x → Conv(w, b) → Relu → y, with TPU-MLIR style names and preprocessing meta."""
    rng = np.random.default_rng(3)
    x = Value("images", TensorType("f32", (1, 3, 8, 8)))
    x.meta = {"pixel_format": "rgb", "mean": (0.0, 0.0, 0.0), "scale": (0.5, 0.5, 0.5)}
    w = Value.weight("/backbone/conv1/weight", rng.normal(size=(4, 3, 3, 3)))
    b = Value.weight("conv1.bias", rng.normal(size=(4,)))
    conv = Node(
        "Conv",
        [x, w, b],
        ["/backbone/conv1/Conv_output_0_Conv"],
        {"strides": (1, 1), "pads": (1, 1, 1, 1), "group": 1},
        output_types=[TensorType("f32", (1, 4, 8, 8))],
    )
    relu = Node("Relu", [conv.output], ["y_Relu"], output_types=[conv.output.type])
    graph = Graph("main", [x], [relu.output], [conv, relu])
    return Module("tiny", graph, {"platform": "ONNX", "state": "TOP_F32", "chip": "ALL"})


def test_text_form_reads_like_mlir() -> None:
    text = print_module(tiny())
    assert text.splitlines() == [
        'module @tiny attributes {chip = "ALL", platform = "ONNX", state = "TOP_F32"}',
        "func @main(",
        "  %images: tensor<1x3x8x8xf32> {mean = floats[0.0, 0.0, 0.0], "
        'pixel_format = "rgb", scale = floats[0.5, 0.5, 0.5]}',
        ") -> (tensor<1x4x8x8xf32>) {",
        '  %"/backbone/conv1/weight" = weight : tensor<4x3x3x3xf32>',
        "  %conv1.bias = weight : tensor<4xf32>",
        '  %"/backbone/conv1/Conv_output_0_Conv" = "Conv"(%images, %"/backbone/conv1/weight", '
        "%conv1.bias) {group = 1, pads = ints[1, 1, 1, 1], strides = ints[1, 1]} : "
        "tensor<1x4x8x8xf32>",
        '  %y_Relu = "Relu"(%"/backbone/conv1/Conv_output_0_Conv") : tensor<1x4x8x8xf32>',
        "  return %y_Relu",
        "}",
    ]
    roundtrip(tiny())


def test_attributes_print_sorted_whatever_their_insertion_order() -> None:
    a, b = tiny(), tiny()
    node = b.graph.nodes[0]
    node.attrs = dict(reversed(list(node.attrs.items())))
    b.metadata = dict(reversed(list(b.metadata.items())))
    assert print_module(a) == print_module(b)


STRINGS = [
    "", 'say "hi"', "a\\b", "two\nlines", "\r\n\t", "é中文😀", "\x00\x01\x1f\x7f",
    "\u2028\u2029\x85\x0b\x0c\x1c", "\ud800 lone surrogate", "\U0010ffff", "\\x41", "\\n",
    "  leading and trailing  ", "// not a comment", "%x = weight", "}", "\u3000",
]  # fmt: skip


@pytest.mark.parametrize("text", STRINGS)
def test_strings_survive_anywhere(text: str) -> None:
    x = Value(text, TensorType("f32", (1,)))
    x.meta = {text: text, "list": (text, text)}
    node = Node(text, [x], [f"out{text}"], {text: text, "s": (text,)}, name=text + "!")
    graph = Graph(text, [x], [node.output], [node])
    parsed = roundtrip(Module(text, graph, {text: text}))
    assert parsed.graph.nodes[0].attrs[text] == text
    text = print_module(parsed)
    assert text.splitlines() == text.split("\n")[:-1]  # no line break but the ends of lines
    text.encode("utf-8")


@pytest.mark.parametrize("value", [*SPECIAL_FLOATS, 1.0, 1e300, -2.5e-310, 123456789.123])
def test_floats_round_trip_bit_exactly(value: float) -> None:
    x = Value("x", TensorType("f32", ()))
    node = Node("Op", [x], ["y"], {"f": value, "fs": (value, value)})
    x.quant = QuantType("i8", (value,), (0,))
    parsed = roundtrip(Module("m", Graph("g", [x], [node.output], [node]), {"f": value}))
    got = parsed.graph.nodes[0].attrs["f"]
    assert type(got) is float
    assert _bits(got) == _bits(value)


def test_attribute_kinds_are_kept() -> None:
    attrs: dict[str, AttrValue] = {
        "int": 1, "float": 1.0, "true": True, "false": False, "zero": 0, "fzero": 0.0,
        "ints": (1, 2), "floats": (1.0, 2.0), "strs": ("1", "2.0"), "empty": (),
        "big": 2**80, "neg": -7, "str_int": "1", "str_true": "true",
    }  # fmt: skip
    x = Value("x", TensorType("f32", (2,)))
    node = Node("Op", [x], ["y"], attrs)
    parsed = roundtrip(Module("m", Graph("main", [x], [node.output], [node])))
    for key, value in attrs.items():
        got = parsed.graph.nodes[0].attrs[key]
        assert got == value and type(got) is type(value), key
        if isinstance(value, tuple):
            assert [type(v) for v in got] == [type(v) for v in value]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "ttype",
    [
        TensorType("f32", None),
        TensorType("i8", ()),
        TensorType("bf16", (0, 3)),
        TensorType("bool", (1,)),
        TensorType("u16", (1, 3, 640, 640)),
    ],
)
def test_tensor_types(ttype: TensorType) -> None:
    x = Value("x", ttype)
    node = Node("Identity", [x], ["y"], output_types=[ttype])
    parsed = roundtrip(Module("m", Graph("main", [x], [node.output], [node])))
    assert parsed.graph.inputs[0].type == ttype
    assert parsed.graph.nodes[0].output.type == ttype


@pytest.mark.parametrize(
    "quant",
    [
        QuantType("i8", (0.0123,), (0,)),
        QuantType("u8", (0.5,), (128,), qmin=0, qmax=255, expressed="f16"),
        QuantType("i8", (0.1, 0.2, 0.3), (0, -1, 2), axis=1, qmin=-127, qmax=127),
        QuantType("i16", (1.0, 2.0), (0, 0), axis=-1, expressed="bf16"),
    ],
)
def test_quant_types_on_every_value_kind(quant: QuantType) -> None:
    x = Value("x", TensorType("i8", (1, 3)), quant=quant)
    w = Value("w", TensorType("i8", (3,)), const=np.arange(3, dtype=np.int8), quant=quant)
    node = Node("Add", [x, w], ["y"], output_types=[TensorType("i8", (1, 3))])
    node.output.quant = quant
    parsed = roundtrip(Module("m", Graph("main", [x], [node.output], [node])))
    g = parsed.graph
    assert g.inputs[0].quant == quant and g.weights()[0].quant == quant
    assert g.nodes[0].output.quant == quant


def test_meta_on_inputs_weights_and_outputs() -> None:
    x = Value("x", TensorType("f32", (1,)))
    x.meta = {"pixel_format": "bgr", "resize_dims": (640, 640), "keep_aspect_ratio": True}
    w = Value.weight("w", np.ones(1, np.float32))
    w.meta = {"origin": "folded"}
    node = Node("Mul", [x, w], ["y"])
    node.output.meta = {"threshold": 3.5, "calibrated": False}
    parsed = roundtrip(Module("m", Graph("main", [x], [node.output], [node])))
    assert parsed.graph.inputs[0].meta == x.meta
    assert parsed.graph.weights()[0].meta == {"origin": "folded"}
    assert parsed.graph.nodes[0].output.meta == node.output.meta


@pytest.mark.parametrize("slots", [(None, 0, 1), (0, None, 1), (0, 1, None), (None, None, None)])
def test_omitted_inputs_in_any_slot(slots: tuple[int | None, ...]) -> None:
    x = Value("x", TensorType("f32", (1,)))
    w = Value.weight("w", np.zeros(1, np.float32))
    pick = [x, w]
    node = Node("Op", [None if s is None else pick[s] for s in slots], ["y"])
    parsed = roundtrip(Module("m", Graph("main", [x], [node.output], [node])))
    assert [v is None for v in parsed.graph.nodes[0].inputs] == [s is None for s in slots]


def test_outputs_may_be_inputs_weights_or_node_outputs_and_repeat() -> None:
    x = Value("x", TensorType("f32", (2,)))
    w = Value.weight("only_returned", np.arange(2, dtype=np.float32))
    split = Node("Split", [x], ["a", "b"], {"axis": 0}, name="the_split")
    sink = Node("Print", [split.outputs[1]], [])
    graph = Graph("main", [x], [split.outputs[1], w, x, split.outputs[0], x], [split, sink])
    parsed = roundtrip(Module("m", graph))
    g = parsed.graph
    assert [v.name for v in g.outputs] == ["b", "only_returned", "x", "a", "x"]
    assert g.outputs[2] is g.inputs[0] and g.outputs[4] is g.inputs[0]
    assert g.nodes[0].name == "the_split" and g.nodes[1].name == "Print"
    assert g.nodes[1].outputs == []


def test_node_names_differing_from_their_first_output() -> None:
    x = Value("x", TensorType("f32", (1,)))
    renamed = Node("Relu", [x], ["y_Relu"], name="/model/relu")
    empty = Node("Relu", [renamed.output], ["z"], name="")
    same = Node("Relu", [empty.output], ["w"], name="w")
    graph = Graph("main", [x], [same.output], [renamed, empty, same])
    text = print_module(Module("m", graph))
    assert 'loc("/model/relu")' in text and 'loc("")' in text
    assert text.count("loc(") == 2
    names = [n.name for n in roundtrip(Module("m", graph)).graph.nodes]
    assert names == ["/model/relu", "", "w"]


def test_weight_dtypes_and_empty_module(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    weights = [Value.weight(f"w_{d}", rand_data(rng, d, (2, 3))) for d in DTYPES]
    node = Node("Concat", weights, ["y"])
    module = Module("m", Graph("main", [], [node.output], [node]))
    save_module(module, tmp_path / "a.mlir", tmp_path / "a.npz")
    loaded = load_module(tmp_path / "a.mlir")
    assert describe(loaded) == describe(module)
    assert loaded.graph.weights()[list(DTYPES).index("bf16")].dtype == "bf16"
    empty = Module("nothing", Graph("main"))
    save_module(empty, tmp_path / "e.mlir", tmp_path / "e.npz")
    assert describe(load_module(tmp_path / "e.mlir")) == describe(empty)
    assert read_npz(tmp_path / "e.npz") == {}


def test_weight_file_is_recorded_relative_to_the_text(tmp_path: Path) -> None:
    module = tiny()
    save_module(module, tmp_path / "ir" / "m.mlir", tmp_path / "data" / "w.npz")
    assert module.metadata["weight_file"] == "../data/w.npz"
    assert 'weight_file = "../data/w.npz"' in (tmp_path / "ir" / "m.mlir").read_text()
    assert describe(load_module(tmp_path / "ir" / "m.mlir")) == describe(module)


def test_comments_and_blank_lines_are_ignored() -> None:
    module = tiny()
    lines = print_module(module).splitlines()
    annotated = "\n".join(["// saved by hand", "", *lines[:4], "  // weights", *lines[4:], ""])
    parsed = parse_module(annotated, weights_of(module))
    assert print_module(parsed) == print_module(module)


# -- errors ---------------------------------------------------------------------------


def saved(tmp_path: Path) -> tuple[Path, Path]:
    text_path, weight_path = tmp_path / "tiny.mlir", tmp_path / "tiny_weight.npz"
    save_module(tiny(), text_path, weight_path)
    return text_path, weight_path


def load_error(path: Path) -> str:
    with pytest.raises(IRError) as info:
        load_module(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_missing_text_file(tmp_path: Path) -> None:
    assert "not found" in load_error(tmp_path / "nope.mlir")


def test_text_file_that_is_a_folder_or_binary(tmp_path: Path) -> None:
    assert "cannot read" in load_error(tmp_path)
    (tmp_path / "bin.mlir").write_bytes(b"module @m\xff\xfe\n")
    assert "UTF-8" in load_error(tmp_path / "bin.mlir")


def test_missing_weight_file(tmp_path: Path) -> None:
    text_path, weight_path = saved(tmp_path)
    weight_path.unlink()
    message = load_error(text_path)
    assert "tiny_weight.npz" in message and "not found" in message


def test_corrupt_weight_file(tmp_path: Path) -> None:
    text_path, weight_path = saved(tmp_path)
    weight_path.write_bytes(weight_path.read_bytes()[:100])
    assert "tiny_weight.npz" in load_error(text_path)


def test_weight_missing_from_the_npz(tmp_path: Path) -> None:
    text_path, weight_path = saved(tmp_path)
    write_npz(weight_path, {"conv1.bias": np.zeros(4, np.float32)})
    message = load_error(text_path)
    assert ":5:" in message and "/backbone/conv1/weight" in message and "missing" in message


@pytest.mark.parametrize(
    "bad", [np.zeros(4, np.float64), np.zeros((2, 2), np.float32), np.zeros(4, np.int32)]
)
def test_weight_of_wrong_shape_or_dtype(tmp_path: Path, bad: npt.NDArray[Any]) -> None:
    text_path, weight_path = saved(tmp_path)
    arrays = read_npz(weight_path)
    arrays["conv1.bias"] = bad
    write_npz(weight_path, arrays)
    message = load_error(text_path)
    assert ":6:" in message and "conv1.bias" in message and "tensor<4xf32>" in message


EDITS = [
    ("%y_Relu = ", "%y_Relu = = ", 8, "expected a quoted op type"),
    ("tensor<4xf32>", "tensor<4xf33>", 6, "unknown dtype"),
    ('"Relu"(%"/backbone', '"Relu"(%"/nowhere', 8, "never defined"),
    ("return %y_Relu", "return %nosuch", 9, "never defined"),
    ("%conv1.bias = weight", "%images = weight", 6, "defined twice"),
    ("ints[1, 1]", "ints[1, 1.5]", 7, "expected an integer"),
    ("group = 1", "group = 1 1", 7, "expected ','"),
    ('"Relu"', '"Re\\qlu"', 8, "unknown escape"),
    ('"rgb"', '"rgb', 3, "unterminated string"),
    ("tensor<1x4x8x8xf32>", "tensor<1x4xx8xf32>", 4, "bad shape"),
    ("return %y_Relu", "return %y_Relu, %images", 9, "declares 1 results"),
    (") -> (tensor<1x4x8x8xf32>)", ") -> (tensor<1x4x8x9xf32>)", 9, "declares tensor<1x4x8x9xf32>"),
    ("func @main(", "fun @main(", 2, "expected 'func'"),
    ("%y_Relu\n}\n", "%y_Relu\n}\n}\n", 11, "after the closing"),
    ("  return %y_Relu\n}\n", "", 9, "ends where 'return' should be"),
    ("tensor<4xf32>", "tensor<4xf32> !quant<storage = i8>", 6, "lacks scale, zero_point"),
    ("tensor<4xf32>", "tensor<4xf32> !quant<storage = i8, scale = [1.0, 2.0], zero_point = [0]>",
     6, "same length"),
    (" : tensor<1x4x8x8xf32>\n  %y", " : tensor<1x4x8x8xf32>, tensor<f32>\n  %y", 7,
     "1 results but 2 result types"),
    ("chip = ", "chip = ,", 1, "expected an attribute value"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "line", "cause"), EDITS)
def test_broken_text_names_file_line_and_cause(
    tmp_path: Path, old: str, new: str, line: int, cause: str
) -> None:
    text_path, _ = saved(tmp_path)
    text = text_path.read_text()
    assert old in text
    text_path.write_text(text.replace(old, new, 1))
    message = load_error(text_path)
    assert message.startswith(f"{text_path}:{line}: ")
    assert cause in message


def test_weight_file_must_be_a_string(tmp_path: Path) -> None:
    text_path, _ = saved(tmp_path)
    text = text_path.read_text()
    text_path.write_text(text.replace('weight_file = "tiny_weight.npz"', "weight_file = 3"))
    assert "weight_file must be a string" in load_error(text_path)


def test_module_without_weight_file_says_so(tmp_path: Path) -> None:
    text_path, _ = saved(tmp_path)
    text = text_path.read_text()
    text_path.write_text(text.replace(', weight_file = "tiny_weight.npz"', ""))
    assert "names no weight_file" in load_error(text_path)


def test_parse_module_errors_name_the_source() -> None:
    module = tiny()
    text = print_module(module).replace("xf32>", "xq9>", 1)
    with pytest.raises(IRError, match=r"^<text>:3: unknown dtype"):
        parse_module(text, weights_of(module))
    with pytest.raises(IRError, match=r"^model\.mlir:5: weight .* missing from the weights given"):
        parse_module(print_module(module), {}, source="model.mlir")


def test_printing_refuses_what_could_not_be_read_back() -> None:
    x = Value("dup\nname", TensorType("f32", (1,)))
    node = Node("Relu", [x], [Value("dup\nname", TensorType("f32", (1,)))])
    with pytest.raises(IRError, match="two values are named") as info:
        print_module(Module("m", Graph("main", [x], [node.output], [node])))
    assert "\n" not in str(info.value)
    stray = Value("stray", TensorType("f32", (1,)))
    node = Node("Relu", [stray], ["y"])
    with pytest.raises(IRError, match="reads %stray"):
        print_module(Module("m", Graph("main", [x], [node.output], [node])))
    node = Node("Relu", [x], ["y"])
    node.attrs["bad"] = [1, 2]  # type: ignore[assignment]
    with pytest.raises(IRError, match="unsupported value"):
        print_module(Module("m", Graph("main", [x], [node.output], [node])))


# -- saving fails cleanly ------------------------------------------------------------


def test_save_into_an_unwritable_weight_folder_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(IRError, match="cannot write") as info:
        save_module(tiny(), tmp_path / "m.mlir", tmp_path / "blocker" / "w.npz")
    assert "\n" not in str(info.value)
    assert sorted(os.listdir(tmp_path)) == ["blocker"]


def test_save_of_an_unserialisable_weight_leaves_nothing(tmp_path: Path) -> None:
    module = tiny()
    weight = module.graph.weights()[1]
    weight.const = np.array([object()] * 4, dtype=object)
    with pytest.raises(IRError, match=r"conv1\.bias"):
        save_module(module, tmp_path / "m.mlir", tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []
    assert "weight_file" not in module.metadata


@pytest.mark.parametrize("name", ["nul\x00inside", "lone\ud800surrogate"])
def test_save_of_a_weight_name_no_npz_can_hold_leaves_nothing(tmp_path: Path, name: str) -> None:
    w = Value.weight(name, np.zeros(2, np.float32))
    node = Node("Relu", [w], ["y"])
    module = Module("m", Graph("main", [], [node.output], [node]))
    roundtrip(module)  # the text alone can hold it
    with pytest.raises(IRError, match="rename it") as info:
        save_module(module, tmp_path / "m.mlir", tmp_path / "w.npz")
    assert "\n" not in str(info.value)
    assert os.listdir(tmp_path) == []


def test_save_failing_while_writing_weights_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = np.lib.format.write_array
    calls: list[int] = []

    def failing(fh: Any, array: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("disk on fire")
        real(fh, array, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing)
    with pytest.raises(IRError, match="disk on fire"):
        save_module(tiny(), tmp_path / "m.mlir", tmp_path / "w.npz")
    assert os.listdir(tmp_path) == []


def test_save_failing_on_the_text_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("")
    with pytest.raises(IRError, match="cannot write"):
        save_module(tiny(), tmp_path / "blocker" / "m.mlir", tmp_path / "w.npz")
    assert sorted(os.listdir(tmp_path)) == ["blocker"]


def test_failed_text_write_keeps_an_earlier_pair_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text_path, weight_path = saved(tmp_path)
    before = text_path.read_bytes(), weight_path.read_bytes()

    def full_disk(path: Path, text: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(text_module, "_write_text", full_disk)
    module = tiny()
    module.graph.weights()[0].const = np.ones((4, 3, 3, 3), np.float32)
    with pytest.raises(IRError, match=r"cannot write '.*tiny\.mlir': No space left"):
        save_module(module, text_path, weight_path)
    assert (text_path.read_bytes(), weight_path.read_bytes()) == before
    assert sorted(os.listdir(tmp_path)) == ["tiny.mlir", "tiny_weight.npz"]


def test_failed_final_rename_removes_the_new_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.replace
    calls: list[str] = []

    def second_fails(src: Any, dst: Any) -> None:
        calls.append(str(dst))
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(os, "replace", second_fails)
    with pytest.raises(IRError, match=r"cannot write '.*w\.npz': Input/output error"):
        save_module(tiny(), tmp_path / "m.mlir", tmp_path / "w.npz")
    assert calls == [str(tmp_path / "m.mlir"), str(tmp_path / "w.npz")]
    assert os.listdir(tmp_path) == []


def test_failed_save_keeps_earlier_files_intact(tmp_path: Path) -> None:
    text_path, weight_path = saved(tmp_path)
    before = text_path.read_bytes(), weight_path.read_bytes()
    module = tiny()
    module.graph.weights()[0].const = np.zeros((4, 3, 3, 3), np.float64)
    with pytest.raises(IRError, match="holds float64 data"):
        save_module(module, text_path, weight_path)
    assert (text_path.read_bytes(), weight_path.read_bytes()) == before
    assert sorted(os.listdir(tmp_path)) == ["tiny.mlir", "tiny_weight.npz"]


# -- npz files ------------------------------------------------------------------------


def test_npz_keys_are_kept_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    keys = ["/a/b:0", "file", "allow_pickle", "x.npy", "é 中", "a" * 200, "arr_0", ""]
    arrays = {k: rng.normal(size=(i + 1,)).astype(np.float32) for i, k in enumerate(keys)}
    write_npz(tmp_path / "sub" / "a.npz", arrays)
    got = read_npz(tmp_path / "sub" / "a.npz")
    assert list(got) == keys
    for key in keys:
        np.testing.assert_array_equal(got[key], arrays[key])
    with zipfile.ZipFile(tmp_path / "sub" / "a.npz") as zf:
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    with np.load(tmp_path / "sub" / "a.npz", allow_pickle=False) as data:
        assert sorted(data.files) == sorted(keys)
    assert os.listdir(tmp_path / "sub") == ["a.npz"]


def test_npz_files_get_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_npz(tmp_path / "a.npz", {"x": np.zeros(1)})
    finally:
        os.umask(old)
    assert (tmp_path / "a.npz").stat().st_mode & 0o777 == 0o644


def test_write_npz_refuses_objects_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_npz(tmp_path / "a.npz", {"ok": np.zeros(2), "bad": np.array([{}], dtype=object)})
    assert os.listdir(tmp_path) == []


def test_read_npz_errors_are_one_line(tmp_path: Path) -> None:
    np.save(tmp_path / "single.npy", np.zeros(3))
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all\n\n")
    write_npz(tmp_path / "cut.npz", {"x": np.arange(1000.0)})
    (tmp_path / "cut.npz").write_bytes((tmp_path / "cut.npz").read_bytes()[:500])
    np.savez(tmp_path / "pickled.npz", x=np.array([{}], dtype=object))
    cases = {
        "missing.npz": "not found",
        "single.npy": "cannot read",
        "junk.npz": "cannot read",
        "cut.npz": "cannot read",
        "pickled.npz": "cannot read",
    }
    for name, cause in cases.items():
        with pytest.raises(SophonError) as info:
            read_npz(tmp_path / name)
        message = str(info.value)
        assert cause in message and name in message and "\n" not in message, message


def test_bfloat16_weights_survive_the_npz(tmp_path: Path) -> None:
    data = np.array([[1.5, -0.0], [np.inf, 3.0]], dtype=ml_dtypes.bfloat16)
    w = Value.weight("w", data)
    node = Node("Relu", [w], ["y"])
    module = Module("m", Graph("main", [], [node.output], [node]))
    save_module(module, tmp_path / "m.mlir", tmp_path / "m.npz")
    loaded = load_module(tmp_path / "m.mlir").graph.weights()[0]
    assert loaded.const is not None and loaded.const.dtype == ml_dtypes.bfloat16
    assert loaded.const.tobytes() == data.tobytes()
