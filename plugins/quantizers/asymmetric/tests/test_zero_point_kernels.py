"""BM1684X chip kernels with non-zero zero points, against arithmetic written out here.

The asymmetric scheme is only as good as the kernels' handling of zero points:
every expected integer below is worked out by hand from the formulas of
TPU-MLIR's arithmetic, with ``c = q - zp`` the centred code:

* Cast to int8/uint8: ``sat(round_half_away(x · (float)(1/scale)) + zp)``;
  dequantize: ``(q - zp) · scale``;
* RightShiftRound HALF_UP: ``floor(v / 2^s + 1/2)``;
* Conv: ``sat(RSR((Σ c_in·w + bias)·m, s) + zp_out)``, the padding being real 0
  (centred code 0, i.e. the raw code ``zp_in``), a fused ReLU clamping at
  ``zp_out`` and at ``relu_upper``;
* Add: ``sat(Σ_i RSR(c_i·m_i, s_i) + zp_out)``; Mul: ``sat(RSR(c_0·c_1·m, s) + zp_out)``;
* Requant: ``sat(RSR(c·m, s) + zp_out)``; AveragePool: ``RSR(Σ window c · m, s) + zp_out``.

Each node runs alone as a program through the program interpreter, which returns
the stored integers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.ir import Graph, Module, Node, QuantType, TensorType, Value
from sophonc.ir.types import numpy_dtype
from sophonc_backend_bm1684x.program.executor import run_program

STORAGE_RANGE = {"i8": (-128, 127), "u8": (0, 255)}


def qtype(storage: str, scale: float, zp: int) -> QuantType:
    lo, hi = STORAGE_RANGE[storage]
    return QuantType(storage, (scale,), (zp,), qmin=lo, qmax=hi)


def act(name: str, shape: Sequence[int], q: QuantType | None = None, dtype: str = "") -> Value:
    return Value(name, TensorType(dtype or (q.storage if q else "f32"), tuple(shape)), quant=q)


def weight(name: str, data: npt.ArrayLike, dtype: str) -> Value:
    arr = np.ascontiguousarray(np.asarray(data).astype(numpy_dtype(dtype)))
    return Value(name, TensorType(dtype, arr.shape), const=arr)


def run_node(
    op: str,
    inputs: Sequence[Value | None],
    output: Value,
    attrs: Mapping[str, object],
    feeds: Mapping[str, npt.ArrayLike],
) -> list[int | float]:
    """The stored output of one chip node, flattened to a list."""
    node = Node(op, inputs, [output], attrs)
    given = [v for v in inputs if v is not None and v.const is None]
    result = run_program(Module("one", Graph("one", given, [output], [node])), feeds, raw=True)
    got = result[output.name]
    assert got.dtype == numpy_dtype(output.dtype)
    return list(got.reshape(-1).tolist())


# ------------------------------------------------------------------ quantize / dequantize
def test_quantize_to_uint8_adds_the_zero_point_after_rounding() -> None:
    y = act("y", (8,), qtype("u8", 0.25, 50))
    x = np.array([0, 0.125, -0.125, -12.5, -12.625, 51.25, 51.375, 1.0], np.float32)
    # x · 4 = [0, 0.5, -0.5, -50, -50.5, 205, 205.5, 4]
    # half away = [0, 1, -1, -50, -51, 205, 206, 4]; + 50 = [50, 51, 49, 0, -1, 255, 256, 54]
    # saturate to [0, 255]:
    assert run_node("Cast", [act("x", (8,))], y, {}, {"x": x}) == [50, 51, 49, 0, 0, 255, 255, 54]


def test_quantize_to_int8_with_a_negative_zero_point() -> None:
    y = act("y", (5,), qtype("i8", 0.5, -20))
    x = np.array([-54.0, -53.75, 0.0, 73.5, 73.75], np.float32)
    # x · 2 = [-108, -107.5, 0, 147, 147.5] → half away [-108, -108, 0, 147, 148]
    # - 20 = [-128, -128, -20, 127, 128] → saturate: 128 → 127
    assert run_node("Cast", [act("x", (5,))], y, {}, {"x": x}) == [-128, -128, -20, 127, 127]


def test_dequantize_subtracts_the_zero_point() -> None:
    q = act("q", (5,), qtype("u8", 0.25, 50))
    codes = np.array([0, 49, 50, 51, 255], np.uint8)
    # (q - 50) · 0.25 = [-12.5, -0.25, 0, 0.25, 51.25]
    got = run_node("Cast", [q], act("y", (5,)), {}, {"q": codes})
    assert got == [-12.5, -0.25, 0.0, 0.25, 51.25]


# ------------------------------------------------------------------------------- Conv
def _conv_1x3(relu: Mapping[str, object]) -> list[int | float]:
    x = act("x", (1, 1, 1, 3), qtype("u8", 0.5, 10))
    w = weight("w", np.array([1, -2, 3]).reshape(1, 1, 1, 3), "i8")
    bias = weight("b", [5], "i32")
    m, s = weight("m", [3], "i32"), weight("s", [1], "i32")
    y = act("y", (1, 1, 1, 3), qtype("i8", 1.0, -4))
    attrs = {"kernel_shape": [1, 3], "pads": [0, 1, 0, 1], **relu}
    codes = np.array([12, 10, 7], np.uint8).reshape(1, 1, 1, 3)
    return run_node("Conv", [x, w, bias, m, s], y, attrs, {"x": codes})


def test_conv_padding_is_real_zero_with_an_input_zero_point() -> None:
    # centred input c = [12, 10, 7] - 10 = [2, 0, -3]; the pads are centred 0:
    # out0 = 0·1 + 2·(-2) + 0·3 = -4; out1 = 2·1 + 0·(-2) + (-3)·3 = -7;
    # out2 = 0·1 + (-3)·(-2) + 0·3 = 6. (Padding with the raw code 0, i.e. c = -10,
    # would make out0 = -14 and out2 = -24.)
    # + bias 5 = [1, -2, 11]; ·3 = [3, -6, 33]; >>1 HALF_UP: [1.5, -3, 16.5] → [2, -3, 17]
    # + zp_out (-4) = [-2, -7, 13]
    assert _conv_1x3({}) == [-2, -7, 13]


def test_conv_fused_relu_clamps_at_the_output_zero_point_and_the_upper_code() -> None:
    # before the ReLU: [-2, -7, 13] (above). Real 0 is code -4, so -7 → -4;
    # relu_upper = 10 is the code of the limit: 13 → 10.
    assert _conv_1x3({"do_relu": True}) == [-2, -4, 13]
    assert _conv_1x3({"do_relu": True, "relu_upper": 10}) == [-2, -4, 10]


# -------------------------------------------------------------------------- Add / Mul
def test_add_and_subtract_centre_each_operand_on_its_zero_point() -> None:
    a = act("a", (4,), qtype("u8", 1.0, 100))
    b = act("b", (4,), qtype("i8", 1.0, -3))
    y = act("y", (4,), qtype("i8", 1.0, 7))
    feeds = {"a": np.array([100, 110, 90, 255], np.uint8),
             "b": np.array([-3, 0, 10, -128], np.int8)}  # fmt: skip
    # c_a = [0, 10, -10, 155]; ·3 >> 2: [0, 7.5, -7.5, 116.25] → HALF_UP [0, 8, -7, 116]
    # c_b = [0, 3, 13, -125]; ·(-5) >> 1: [0, -7.5, -32.5, 312.5] → [0, -7, -32, 313]
    # sum = [0, 1, -39, 429]; + 7 = [7, 8, -32, 436] → saturate [7, 8, -32, 127]
    attrs = {"multipliers": (3, -5), "shifts": (2, 1)}
    assert run_node("Add", [a, b], y, attrs, feeds) == [7, 8, -32, 127]


def test_mul_multiplies_centred_codes() -> None:
    a = act("a", (4,), qtype("u8", 1.0, 20))
    b = act("b", (4,), qtype("i8", 1.0, -10))
    y = act("y", (4,), qtype("u8", 1.0, 5))
    feeds = {"a": np.array([20, 30, 10, 200], np.uint8),
             "b": np.array([-10, -8, 5, 100], np.int8)}  # fmt: skip
    # c_a = [0, 10, -10, 180], c_b = [0, 2, 15, 110]; product [0, 20, -150, 19800]
    # ·3 = [0, 60, -450, 59400]; >> 4: [0, 3.75, -28.125, 3712.5] → HALF_UP [0, 4, -28, 3713]
    # + 5 = [5, 9, -23, 3718] → saturate to uint8: [5, 9, 0, 255]
    attrs = {"multiplier": 3, "shift": 4}
    assert run_node("Mul", [a, b], y, attrs, feeds) == [5, 9, 0, 255]


# ---------------------------------------------------------------------------- Requant
def test_requant_between_zero_points_and_storages() -> None:
    x = act("x", (5,), qtype("i8", 0.25, -8))
    y = act("y", (5,), qtype("u8", 0.5, 30))
    codes = np.array([-8, -7, -5, 127, -128], np.int8)
    # c = [0, 1, 3, 135, -120]; ratio 0.25/0.5 as m = 1, s = 1:
    # [0, 0.5, 1.5, 67.5, -60] → HALF_UP [0, 1, 2, 68, -60]; + 30 = [30, 31, 32, 98, -30]
    # → saturate to uint8: -30 → 0
    attrs = {"multiplier": 1, "shift": 1}
    assert run_node("Requant", [x], y, attrs, {"x": codes}) == [30, 31, 32, 98, 0]


# ------------------------------------------------------------------------ AveragePool
def _avg_pool(include_pad: int, m: Sequence[int], s: Sequence[int]) -> list[int | float]:
    x = act("x", (1, 1, 2, 2), qtype("u8", 0.5, 10))
    y = act("y", (1, 1, 2, 2), qtype("i8", 0.25, -20))
    shape = (1, 1, 2, 2) if len(m) > 1 else (1,)
    mult = weight("m", np.array(m).reshape(shape), "i32")
    shift = weight("s", np.array(s).reshape(shape), "i32")
    attrs = {"kernel_shape": [2, 2], "pads": [1, 1, 0, 0], "count_include_pad": include_pad}
    codes = np.array([[14, 10], [6, 30]], np.uint8).reshape(1, 1, 2, 2)
    return run_node("AveragePool", [x, mult, shift], y, attrs, {"x": codes})


def test_average_pool_pads_with_real_zero_under_a_zero_point() -> None:
    # c = [[4, 0], [-4, 20]]; windows 2x2 with one row and one column of pads before:
    # out00 = {c00} = 4 (1 real element), out01 = {c00, c01} = 4 (2),
    # out10 = {c00, c10} = 0 (2), out11 = all four = 20 (4).
    # Without count_include_pad the divisors are 1, 2, 2, 4: ratio 0.5/(0.25·n) = 2/n,
    # i.e. (m, s) = (1, -1), (1, 0), (1, 0), (1, 1): [8, 4, 0, 10]; + (-20):
    assert _avg_pool(0, [1, 1, 1, 1], [-1, 0, 0, 1]) == [-12, -16, -20, -10]
    # With count_include_pad every divisor is 4 (m = 1, s = 1): [2, 2, 0, 10] - 20.
    # Pads holding the raw code 0 (c = -10) would give out00 = (4 - 30)/2 = -13 instead.
    assert _avg_pool(1, [1], [1]) == [-18, -18, -20, -10]


# -------------------------------------------------------------------------------- Lut
def test_lut_indexes_the_raw_byte_of_a_zero_point_input() -> None:
    x = act("x", (4,), qtype("i8", 0.5, -10))
    table = np.arange(256, dtype=np.int64)[::-1].astype(np.uint8)  # T[i] = 255 - i
    y = act("y", (4,), qtype("u8", 1.0, 0))
    codes = np.array([-10, -1, 0, 127], np.int8)
    # raw bytes: -10 → 246, -1 → 255, 0 → 0, 127 → 127; T = [9, 0, 255, 128]
    got = run_node("Lut", [x, weight("t", table, "u8")], y, {}, {"x": codes})
    assert got == [9, 0, 255, 128]


# ------------------------------------------------------------------ moves with a ReLU
def test_maxpool_with_fused_relu_clamps_codes_at_the_zero_point() -> None:
    x = act("x", (1, 1, 1, 6), qtype("i8", 0.5, -10))
    y = act("y", (1, 1, 1, 3), qtype("i8", 0.5, -10))
    codes = np.array([-20, -12, -10, -9, -7, 40], np.int8).reshape(1, 1, 1, 6)
    attrs = {"top_op": "MaxPool", "kernel_shape": [1, 2], "strides": [1, 2], "do_relu": True,
             "relu_upper": -6}  # fmt: skip
    # window maxima [-12, -9, 40]; real 0 is code -10: [-10, -9, 40]; the limit's code
    # -6 (2.0/0.5 - 10) caps 40: [-10, -9, -6]. The core op on codes would have
    # clamped at code 0 (real 5.0) instead.
    assert run_node("Move", [x], y, attrs, {"x": codes}) == [-10, -9, -6]


def test_pad_fills_with_the_code_the_lowering_chose() -> None:
    x = act("x", (1, 1, 1, 2), qtype("u8", 0.5, 10))
    y = act("y", (1, 1, 1, 4), qtype("u8", 0.5, 10))
    codes = np.array([3, 200], np.uint8).reshape(1, 1, 1, 2)
    attrs = {"top_op": "Pad", "pads": [0, 0, 0, 1, 0, 0, 0, 1], "value": 10.0}
    # code 10 is real 0: [10, 3, 200, 10]
    assert run_node("Move", [x], y, attrs, {"x": codes}) == [10, 3, 200, 10]
