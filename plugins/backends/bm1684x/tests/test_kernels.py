"""The chip kernels on tiny one-node programs, against arithmetic written out here.

Every expected integer below is worked out by hand in the comments from the
formulas of TPU-MLIR's BM1684X arithmetic:

* Cast to int8: ``sat(round_half_away(x · (float)(1/scale)) + zp)``, product in f32;
* RightShiftRound HALF_UP: ``floor(v / 2^s + 1/2)`` (so -2.5 → -2, 2.5 → 3);
* Conv: ``sat(RSR((Σ (x - zp_in)·w + bias)·m[c], s[c]) + zp_out)``, fused ReLU clamps
  at ``zp_out`` and at ``relu_upper``;
* Add: ``sat(Σ_i RSR((x_i - zp_i)·m_i, s_i) + zp_out)``; Mul: one RSR of the product;
* Lut: ``table[q < 0 ? 256 + q : q]``.

Each node runs as a one-node program through the program interpreter (``raw`` =
the stored integers / floats), so the executor's feeding and typing are exercised
too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from sophonc.ir import Graph, Module, Node, QuantType, TensorType, Value
from sophonc.ir.types import numpy_dtype
from sophonc_backend_bm1684x.program.executor import run_program

RANGES = {"i8": (-128, 127), "u8": (0, 255)}


def quant(storage: str, scale: float, zp: int = 0) -> QuantType:
    """Per-tensor int8/uint8 quantized type."""
    lo, hi = RANGES[storage]
    return QuantType(storage, (scale,), (zp,), qmin=lo, qmax=hi)


def act(name: str, dtype: str, shape: Sequence[int], q: QuantType | None = None) -> Value:
    """An activation value of the program."""
    return Value(name, TensorType(dtype, tuple(shape)), quant=q)


def const(name: str, data: npt.ArrayLike, dtype: str) -> Value:
    """A weight of the program, stored as ``dtype``."""
    arr = np.ascontiguousarray(np.asarray(data).astype(numpy_dtype(dtype)))
    return Value(name, TensorType(dtype, arr.shape), const=arr)


def run_one(
    op: str,
    inputs: Sequence[Value | None],
    output: Value,
    attrs: Mapping[str, object],
    feeds: Mapping[str, npt.ArrayLike],
) -> npt.NDArray[np.generic]:
    """Run one chip node as a program; the stored (raw) output."""
    node = Node(op, inputs, [output], attrs)
    graph_inputs = [v for v in inputs if v is not None and v.const is None]
    module = Module("one", Graph("one", graph_inputs, [output], [node]))
    result = run_program(module, feeds, raw=True)[output.name]
    assert result.shape == output.shape
    assert result.dtype == numpy_dtype(output.dtype)
    return result


# ------------------------------------------------------------------------------ Cast
def test_cast_quantize_int8_ties_away_from_zero_and_saturates() -> None:
    x = act("x", "f32", (10,))
    y = act("y", "i8", (10,), quant("i8", 0.5))
    data = np.array([1.25, -1.25, 0.75, -0.75, 63.5, 64.0, -64.0, -64.5, -100.0, 0.2], np.float32)
    got = run_one("Cast", [x], y, {}, {"x": data})
    # (float)(1/0.5) = 2: x·2 = [2.5, -2.5, 1.5, -1.5, 127, 128, -128, -129, -200, 0.4]
    # half away:              [3,   -3,   2,   -2,   127, 128, -128, -129, -200, 0]
    # saturate to [-128, 127]:
    want = [3, -3, 2, -2, 127, 127, -128, -128, -128, 0]
    assert got.dtype == np.int8
    assert got.tolist() == want


def test_cast_quantize_adds_zero_point_after_rounding() -> None:
    x = act("x", "f32", (4,))
    y = act("y", "i8", (4,), quant("i8", 0.5, 3))
    got = run_one("Cast", [x], y, {}, {"x": np.array([1.25, -1.25, -0.25, 62.5], np.float32)})
    # x·2 = [2.5, -2.5, -0.5, 125] → [3, -3, -1, 125] → +3 = [6, 0, 2, 128] → sat 127.
    # (Adding zp before rounding would give 3 for -0.25: -0.5 + 3 = 2.5 → 3.)
    assert got.tolist() == [6, 0, 2, 127]


def test_cast_quantize_uint8_saturates_at_0_and_255() -> None:
    x = act("x", "f32", (7,))
    y = act("y", "u8", (7,), quant("u8", 0.25))
    data = np.array([0.125, 0.375, 63.75, 63.875, 64.0, -0.125, -1.0], np.float32)
    got = run_one("Cast", [x], y, {}, {"x": data})
    # (float)(1/0.25) = 4: x·4 = [0.5, 1.5, 255, 255.5, 256, -0.5, -4]
    # half away: [1, 2, 255, 256, 256, -1, -4] → saturate to [0, 255]:
    assert got.dtype == np.uint8
    assert got.tolist() == [1, 2, 255, 255, 255, 0, 0]


def test_cast_quantize_multiplies_in_float32() -> None:
    x = act("x", "f32", (1,))
    y = act("y", "i8", (1,), quant("i8", 0.1))
    x35 = np.float32(0.35)
    inv = np.float32(1 / 0.1)
    assert inv == np.float32(10.0)
    # The exact product of the float32 0.35 and 10 lies just below 3.5 ...
    assert float(x35) * 10.0 < 3.5
    # ... but the float32 product is the tie 3.5, which rounds away from zero to 4.
    assert x35 * inv == np.float32(3.5)
    got = run_one("Cast", [x], y, {}, {"x": np.array([x35])})
    assert got.tolist() == [4]


def test_cast_dequantize_to_f32_and_f16() -> None:
    q = act("q", "i8", (5,), quant("i8", 0.5, 3))
    y = act("y", "f32", (5,))
    got = run_one("Cast", [q], y, {}, {"q": np.array([-128, -1, 0, 3, 127], np.int8)})
    # (q - 3)·0.5 = [-65.5, -2, -1.5, 0, 62]
    assert got.dtype == np.float32
    assert got.tolist() == [-65.5, -2.0, -1.5, 0.0, 62.0]

    q2 = act("q2", "u8", (3,), quant("u8", 0.1))
    y2 = act("y2", "f16", (3,))
    got16 = run_one("Cast", [q2], y2, {}, {"q2": np.array([0, 1, 10], np.uint8)})
    assert got16.dtype == np.float16
    bits = got16.view(np.uint16).tolist()
    # 1·0.1 in f32 = 0.1000000015; the f16 grid near 0.1 (exponent -4) has step 2^-14:
    # 0.1 / 2^-14 = 1638.4 → 1638 → mantissa 1638 - 1024 = 614 = 0x266, exponent field
    # -4 + 15 = 11 → 0x2C00 | 0x266 = 0x2E66.
    # 10·0.1 in f32 = 1.0000000149 → f16 1.0 = 0x3C00.
    assert bits == [0x0000, 0x2E66, 0x3C00]


def test_cast_f32_to_f16_rounds_ties_to_even() -> None:
    x = act("x", "f32", (5,))
    y = act("y", "f16", (5,))
    data = np.array(
        [1 + 2**-11, 1 + 3 * 2**-11, -(1 + 2**-11), 1 + 2**-11 + 2**-20, 65520.0], np.float32
    )
    got = run_one("Cast", [x], y, {}, {"x": data}).view(np.uint16).tolist()
    # f16 step at 1 is 2^-10: 1 + 2^-11 is halfway between 1 (mantissa 0, even) and
    # 1 + 2^-10 (odd) → 1 = 0x3C00; 1 + 3·2^-11 is halfway between 1 + 2^-10 (odd) and
    # 1 + 2^-9 (mantissa 2, even) → 0x3C02; the negative tie → 0xBC00; just above the
    # tie rounds up → 0x3C01; 65520 is halfway between 65504 (mantissa 0x3FF, odd) and
    # 65536, which overflows → +inf 0x7C00.
    assert got == [0x3C00, 0x3C02, 0xBC00, 0x3C01, 0x7C00]


def test_cast_f32_to_bf16_rounds_ties_to_even_and_f16_widens_exactly() -> None:
    x = act("x", "f32", (3,))
    y = act("y", "bf16", (3,))
    data = np.array([1 + 2**-8, 1 + 3 * 2**-8, -(1 + 3 * 2**-8)], np.float32)
    got = run_one("Cast", [x], y, {}, {"x": data}).view(np.uint16).tolist()
    # bf16 step at 1 is 2^-7: 1 + 2^-8 → 1 (0x3F80, even); 1 + 3·2^-8 → 1 + 2^-6
    # (0x3F82, even); its negative → 0xBF82.
    assert got == [0x3F80, 0x3F82, 0xBF82]

    h = act("h", "f16", (2,))
    w = act("w", "f32", (2,))
    half = np.array([0x3C01, 0xFBFF], np.uint16).view(np.float16)
    wide = run_one("Cast", [h], w, {}, {"h": half})
    assert wide.dtype == np.float32
    assert wide.tolist() == [1 + 2**-10, -65504.0]


def test_cast_between_two_quantized_forms_is_refused() -> None:
    from sophonc.errors import SophonError

    a = act("a", "i8", (1,), quant("i8", 0.5))
    b = act("b", "i8", (1,), quant("i8", 0.25))
    with pytest.raises(SophonError, match="Requant"):
        run_one("Cast", [a], b, {}, {"a": np.array([1], np.int8)})


# ---------------------------------------------------------------------------- Requant
def test_requant_half_up_ties_and_saturation() -> None:
    x = act("x", "i8", (11,), quant("i8", 1.0))
    y = act("y", "i8", (11,), quant("i8", 1.0))
    codes = np.array([-1, 1, -3, 3, 0, 51, 52, -51, -52, 100, -128], np.int8)
    got = run_one("Requant", [x], y, {"multiplier": 5, "shift": 1}, {"x": codes})
    # q·5 = [-5, 5, -15, 15, 0, 255, 260, -255, -260, 500, -640]
    # /2  = [-2.5, 2.5, -7.5, 7.5, 0, 127.5, 130, -127.5, -130, 250, -320]
    # floor(v + 1/2) = [-2, 3, -7, 8, 0, 128, 130, -127, -130, 250, -320]
    # saturate:
    assert got.tolist() == [-2, 3, -7, 8, 0, 127, 127, -127, -128, 127, -128]


def test_requant_with_zero_points_uint8_to_int8() -> None:
    x = act("x", "u8", (3,), quant("u8", 1.0, 10))
    y = act("y", "i8", (3,), quant("i8", 1.0, -5))
    got = run_one(
        "Requant", [x], y, {"multiplier": 3, "shift": 2},
        {"x": np.array([0, 12, 255], np.uint8)},
    )  # fmt: skip
    # q - 10 = [-10, 2, 245]; ·3 = [-30, 6, 735]; /4 = [-7.5, 1.5, 183.75]
    # HALF_UP = [-7, 2, 184]; -5 = [-12, -3, 179]; saturate → [-12, -3, 127]
    assert got.tolist() == [-12, -3, 127]


# ------------------------------------------------------------------------------- Conv
def conv_inputs(
    x: Value, w: npt.ArrayLike, bias: npt.ArrayLike | None, m: npt.ArrayLike, s: npt.ArrayLike
) -> list[Value | None]:
    return [
        x,
        const("w", w, "i8"),
        None if bias is None else const("bias", bias, "i32"),
        const("multiplier", m, "i32"),
        const("shift", s, "i32"),
    ]


def test_conv_1x1_per_channel_multiplier_shift_bias_and_saturation() -> None:
    x = act("x", "i8", (1, 2, 2, 2), quant("i8", 1.0))
    y = act("y", "i8", (1, 4, 2, 2), quant("i8", 1.0))
    xs = np.array([[[[1, -2], [3, 4]], [[5, 0], [-1, 2]]]], np.int8)
    w = np.array([[2, 1], [-3, 4], [1, -1], [100, 100]], np.int8).reshape(4, 2, 1, 1)
    inputs = conv_inputs(x, w, [3, -1, 10, 0], [3, 1, 5, 1], [2, 1, 3, 0])
    got = run_one("Conv", inputs, y, {"kernel_shape": [1, 1]}, {"x": xs})
    # positions (0,0) (0,1) (1,0) (1,1): (x0, x1) = (1,5) (-2,0) (3,-1) (4,2)
    # oc0 = 2·x0 + x1 = [7, -4, 5, 10];  +3  = [10, -1, 8, 13]
    #   ·3 = [30, -3, 24, 39]; /4 = [7.5, -0.75, 6, 9.75] → HALF_UP [8, -1, 6, 10]
    # oc1 = -3·x0 + 4·x1 = [17, 6, -13, -4]; -1 = [16, 5, -14, -5]
    #   ·1 /2 = [8, 2.5, -7, -2.5] → [8, 3, -7, -2]
    # oc2 = x0 - x1 = [-4, -2, 4, 2]; +10 = [6, 8, 14, 12]
    #   ·5 = [30, 40, 70, 60]; /8 = [3.75, 5, 8.75, 7.5] → [4, 5, 9, 8]
    # oc3 = 100·(x0 + x1) = [600, -200, 200, 600] → saturate [127, -128, 127, 127]
    want = [[[8, -1], [6, 10]], [[8, 3], [-7, -2]], [[4, 5], [9, 8]], [[127, -128], [127, 127]]]
    assert got.dtype == np.int8
    assert got.tolist() == [want]


def test_conv_3x3_zero_padding_is_real_zero_with_relu_and_upper_limit() -> None:
    # Input zero point 2: padding stands for the real value 0, i.e. the code 2.
    x = act("x", "i8", (1, 1, 3, 3), quant("i8", 1.0, 2))
    y = act("y", "i8", (1, 2, 3, 3), quant("i8", 1.0, -5))
    xs = np.array([[2, 4, 0], [5, 2, 3], [1, 2, 6]], np.int8).reshape(1, 1, 3, 3)
    w0 = np.ones((3, 3))
    w1 = np.array([[0, 0, 0], [0, 2, 0], [0, 0, -1]])
    w = np.stack([w0, w1]).reshape(2, 1, 3, 3)
    inputs = conv_inputs(x, w, [-6, 1], [7, 3], [1, 0])
    attrs = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "do_relu": True, "relu_upper": 12}
    got = run_one("Conv", inputs, y, attrs, {"x": xs})
    # c = x - 2 = [[0, 2, -2], [3, 0, 1], [-1, 0, 4]]
    # oc0 (all-ones 3x3, out-of-range taps read 0):
    #   [[0+2+3+0, 0+2-2+3+0+1, 2-2+0+1],
    #    [0+2+3+0-1+0, 7, 2-2+0+1+0+4],
    #    [3+0-1+0, 3+0+1-1+0+4, 0+1+0+4]] = [[5, 4, 1], [4, 7, 5], [2, 7, 5]]
    #   bias -6 → [-1, -2, -5, -2, 1, -1, -4, 1, -1]; ·7 = [-7, -14, -35, -14, 7, -7, -28,
    #   7, -7]; /2 HALF_UP → [-3, -7, -17, -7, 4, -3, -14, 4, -3]; +zp -5 → [-8, -12, -22,
    #   -12, -1, -8, -19, -1, -8]; ReLU at zp (-5) → [-5, -5, -5, -5, -1, -5, -5, -1, -5]
    # oc1 = 2·c[i,j] - c[i+1,j+1] = [0-0, 4-1, -4-0, 6-0, 0-4, 2-0, -2-0, 0-0, 8-0]
    #   = [0, 3, -4, 6, -4, 2, -2, 0, 8]; bias +1 → [1, 4, -3, 7, -3, 3, -1, 1, 9];
    #   ·3 → [3, 12, -9, 21, -9, 9, -3, 3, 27]; +zp → [-2, 7, -14, 16, -14, 4, -8, -2, 22]
    #   ReLU at -5 → [-2, 7, -5, 16, -5, 4, -5, -2, 22]; upper 12 → [.., 12, .., 12]
    want0 = [[-5, -5, -5], [-5, -1, -5], [-5, -1, -5]]
    want1 = [[-2, 7, -5], [12, -5, 4], [-5, -2, 12]]
    assert got.tolist() == [[want0, want1]]


def test_conv_without_bias() -> None:
    x = act("x", "u8", (1, 1, 1, 3), quant("u8", 1.0))
    y = act("y", "u8", (1, 1, 1, 3), quant("u8", 1.0, 1))
    w = np.array([[[[3]]]], np.int8)
    got = run_one(
        "Conv", conv_inputs(x, w, None, [1], [1]), y, {"kernel_shape": [1, 1]},
        {"x": np.array([[[[1, 200, 0]]]], np.uint8)},
    )  # fmt: skip
    # 3·x = [3, 600, 0]; /2 HALF_UP = [2, 300, 0]; +1 = [3, 301, 1] → sat u8 [3, 255, 1]
    assert got.tolist() == [[[[3, 255, 1]]]]


def test_conv_transpose_1d_per_channel() -> None:
    x = act("x", "i8", (1, 1, 2), quant("i8", 1.0))
    y = act("y", "i8", (1, 2, 3), quant("i8", 1.0))
    w = np.array([[[3, 1], [-1, 2]]], np.int8)  # (C_in 1, C_out 2, k 2)
    inputs = conv_inputs(x, w, [1, 0], [1, 3], [1, 1])
    got = run_one(
        "ConvTranspose", inputs, y, {"kernel_shape": [2]}, {"x": np.array([[[1, -2]]], np.int8)}
    )
    # y[oc, t] = Σ_i x[i]·w[oc, t - i]:
    # oc0 (w = [3, 1]):  [1·3, 1·1 + (-2)·3, (-2)·1] = [3, -5, -2]; +1 = [4, -4, -1]
    #   ·1 /2 = [2, -2, -0.5] → HALF_UP [2, -2, 0]
    # oc1 (w = [-1, 2]): [-1, 1·2 + (-2)·(-1), (-2)·2] = [-1, 4, -4]; +0
    #   ·3 /2 = [-1.5, 6, -6] → HALF_UP [-1, 6, -6]
    assert got.tolist() == [[[2, -2, 0], [-1, 6, -6]]]


# -------------------------------------------------------------------------- Add / Mul
def test_add_with_negative_multiplier_subtracts_and_saturates() -> None:
    a = act("a", "i8", (7,), quant("i8", 1.0))
    b = act("b", "i8", (7,), quant("i8", 1.0))
    y = act("y", "i8", (7,), quant("i8", 1.0))
    attrs = {"multipliers": (3, -5), "shifts": (1, 1)}
    feeds = {
        "a": np.array([1, 1, -1, 40, -40, 100, -100], np.int8),
        "b": np.array([1, -1, 1, -20, 20, -100, 100], np.int8),
    }
    got = run_one("Add", [a, b], y, attrs, feeds)
    # a·3 = [3, 3, -3, 120, -120, 300, -300]; /2 = [1.5, 1.5, -1.5, 60, -60, 150, -150]
    #   HALF_UP → [2, 2, -1, 60, -60, 150, -150]
    # b·(-5) = [-5, 5, -5, 100, -100, 500, -500]; /2 = [-2.5, 2.5, -2.5, 50, -50, 250, -250]
    #   HALF_UP → [-2, 3, -2, 50, -50, 250, -250]  (-2.5 → -2: not the negated 3)
    # sum = [0, 5, -3, 110, -110, 400, -400] → saturate
    assert got.tolist() == [0, 5, -3, 110, -110, 127, -128]


def test_add_with_zero_points_uint8_output_and_relu() -> None:
    a = act("a", "u8", (5,), quant("u8", 1.0))
    b = act("b", "i8", (5,), quant("i8", 1.0, 4))
    y = act("y", "u8", (5,), quant("u8", 1.0, 10))
    attrs = {"multipliers": (1, 2), "shifts": (0, 2), "do_relu": True}
    feeds = {
        "a": np.array([0, 200, 255, 7, 3], np.uint8),
        "b": np.array([4, -128, 127, 0, -50], np.int8),
    }
    got = run_one("Add", [a, b], y, attrs, feeds)
    # b - 4 = [0, -132, 123, -4, -54]; ·2 = [0, -264, 246, -8, -108]
    #   /4 = [0, -66, 61.5, -2, -27] → HALF_UP [0, -66, 62, -2, -27]
    # a + that = [0, 134, 317, 5, -24]; +10 = [10, 144, 327, 15, -14]
    # ReLU at zp 10 → [10, 144, 327, 15, 10]; saturate u8 → [10, 144, 255, 15, 10]
    assert got.dtype == np.uint8
    assert got.tolist() == [10, 144, 255, 15, 10]


def test_mul_rescales_the_exact_product_once() -> None:
    a = act("a", "i8", (7,), quant("i8", 1.0))
    b = act("b", "i8", (7,), quant("i8", 1.0))
    y = act("y", "i8", (7,), quant("i8", 1.0))
    feeds = {
        "a": np.array([2, -2, 8, 16, -16, 127, -128], np.int8),
        "b": np.array([4, 4, 1, 127, 127, 127, 127], np.int8),
    }
    got = run_one("Mul", [a, b], y, {"multiplier": 3, "shift": 4}, feeds)
    # a·b = [8, -8, 8, 2032, -2032, 16129, -16256]; ·3 = [24, -24, 24, 6096, -6096,
    # 48387, -48768]; /16 = [1.5, -1.5, 1.5, 381, -381, 3024.1875, -3048]
    # HALF_UP → [2, -1, 2, 381, -381, 3024, -3048] → saturate
    assert got.tolist() == [2, -1, 2, 127, -128, 127, -128]


def test_mul_with_zero_points() -> None:
    a = act("a", "u8", (2,), quant("u8", 1.0))
    b = act("b", "i8", (2,), quant("i8", 1.0, 2))
    y = act("y", "i8", (2,), quant("i8", 1.0, -3))
    feeds = {"a": np.array([3, 0], np.uint8), "b": np.array([7, -1], np.int8)}
    got = run_one("Mul", [a, b], y, {"multiplier": 1, "shift": 1}, feeds)
    # (a)·(b - 2) = [3·5, 0·(-3)] = [15, 0]; /2 → [7.5 → 8, 0]; -3 → [5, -3]
    assert got.tolist() == [5, -3]


# -------------------------------------------------------------------------------- Lut
def test_lut_indexes_negative_int8_codes_by_their_byte() -> None:
    table = np.array([(3 * i + 7) % 256 for i in range(256)], np.uint8)
    x = act("x", "i8", (6,), quant("i8", 1.0))
    y = act("y", "u8", (6,), quant("u8", 1.0))
    got = run_one(
        "Lut", [x, const("table", table, "u8")], y, {},
        {"x": np.array([-128, -1, 0, 1, 127, -2], np.int8)},
    )  # fmt: skip
    # idx = q < 0 ? 256 + q : q = [128, 255, 0, 1, 127, 254]
    # table[i] = (3i + 7) mod 256 = [391 mod 256, 772 mod 256, 7, 10, 388 mod 256,
    #   769 mod 256] = [135, 4, 7, 10, 132, 1]
    assert got.dtype == np.uint8
    assert got.tolist() == [135, 4, 7, 10, 132, 1]


def test_lut_on_uint8_codes_and_a_signed_table() -> None:
    table = np.array([i - 256 if i >= 128 else i for i in range(256)], np.int8)[::-1].copy()
    x = act("x", "u8", (3,), quant("u8", 1.0))
    y = act("y", "i8", (3,), quant("i8", 1.0))
    got = run_one(
        "Lut", [x, const("table", table, "i8")], y, {},
        {"x": np.array([0, 128, 255], np.uint8)},
    )  # fmt: skip
    # reversed table: entry i holds the signed byte of 255 - i:
    # i = 0 → byte 255 → -1; i = 128 → byte 127 → 127; i = 255 → byte 0 → 0
    assert got.tolist() == [-1, 127, 0]


# ------------------------------------------------------------------------------- Move
def test_move_maxpool_on_int8_never_picks_the_padding() -> None:
    q = quant("i8", 0.5, 0)
    x = act("x", "i8", (1, 1, 2, 2), q)
    y = act("y", "i8", (1, 1, 3, 3), q)
    attrs = {"top_op": "MaxPool", "kernel_shape": [2, 2], "strides": [1, 1], "pads": [1, 1, 1, 1]}
    got = run_one("Move", [x], y, attrs, {"x": np.array([[[[-5, -3], [-7, -2]]]], np.int8)})
    # every window over the padded 4x4 grid holds at least one real code:
    # (0,0) -5 | (0,1) max(-5,-3) | (0,2) -3
    # (1,0) max(-5,-7) | (1,1) max(all) | (1,2) max(-3,-2)
    # (2,0) -7 | (2,1) max(-7,-2) | (2,2) -2
    assert got.tolist() == [[[[-5, -3, -3], [-5, -2, -2], [-7, -2, -2]]]]


def test_move_pad_fills_with_the_given_code() -> None:
    q = quant("i8", 0.5, 0)
    x = act("x", "i8", (1, 1, 1, 2), q)
    y = act("y", "i8", (1, 1, 2, 3), q)
    attrs = {"top_op": "Pad", "pads": [0, 0, 1, 0, 0, 0, 0, 1], "mode": "constant", "value": -3.0}
    got = run_one("Move", [x], y, attrs, {"x": np.array([[[[5, -6]]]], np.int8)})
    # one row above and one column to the right, every new cell the code -3
    assert got.dtype == np.int8
    assert got.tolist() == [[[[-3, -3, -3], [5, -6, -3]]]]

    qu = quant("u8", 0.5, 0)
    xu = act("xu", "u8", (1, 2), qu)
    yu = act("yu", "u8", (1, 4), qu)
    attrs_u = {"top_op": "Pad", "pads": [0, 1, 0, 1], "value": 200.0}
    got_u = run_one("Move", [xu], yu, attrs_u, {"xu": np.array([[0, 255]], np.uint8)})
    assert got_u.tolist() == [[200, 0, 255, 200]]


def test_move_refuses_an_op_that_changes_the_dtype() -> None:
    from sophonc.errors import SophonError

    x = act("x", "i8", (2,), quant("i8", 1.0))
    y = act("y", "i8", (1,), quant("i8", 1.0))
    # ArgMax makes int64 indices out of int8 codes: not a move of the codes.
    with pytest.raises(SophonError, match="produced int64 values"):
        run_one("Move", [x], y, {"top_op": "ArgMax", "axis": 0}, {"x": np.array([1, 4], np.int8)})
