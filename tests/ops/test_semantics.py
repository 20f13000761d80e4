"""Numeric semantics spelled out by hand: integer division and remainders, rounding,
casts, special functions, index ops and the generator ops frontends fold without
ever emitting (Shape, Size, ConstantOfShape)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sophonc.ops.special import erf


def test_integer_div_truncates_toward_zero(run_op):
    a = np.array([7, -7, 7, -7, 6, -1], np.int32)
    b = np.array([2, 2, -2, -2, 3, 5], np.int32)
    (y,) = run_op("Div", [a, b])
    np.testing.assert_array_equal(y, [3, -3, -3, 3, 2, 0])
    assert y.dtype == np.int32


@pytest.mark.parametrize(("fmod", "want"), [(0, [1, 2, -2, -1, 0]), (1, [1, -1, 1, -1, 0])])
def test_mod_sign_follows_divisor_or_dividend(run_op, fmod, want):
    a = np.array([7, -7, 7, -7, 6], np.int64)
    b = np.array([3, 3, -3, -3, 3], np.int64)
    (y,) = run_op("Mod", [a, b], {"fmod": fmod})
    np.testing.assert_array_equal(y, want)


def test_float_fmod(run_op):
    (y,) = run_op(
        "Mod", [np.array([5.5, -5.5], np.float32), np.array([2.0, 2.0], np.float32)], {"fmod": 1}
    )
    np.testing.assert_allclose(y, [1.5, -1.5])


def test_round_is_half_to_even(run_op):
    x = np.array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001], np.float32)
    (y,) = run_op("Round", [x])
    np.testing.assert_array_equal(y, [0, 2, 2, 0, -2, -2, 2, 3])


@pytest.mark.parametrize(
    ("to", "want"),
    [
        ("i32", [2, -2, 0, 1, -1]),
        ("i64", [2, -2, 0, 1, -1]),
        ("u8", [2, 254, 0, 1, 255]),
        ("bool", [True, True, False, True, True]),
        ("f32", [2.7, -2.7, 0.0, 1.0, -1.9]),
    ],
)
def test_cast_float_to_int_truncates_toward_zero(run_op, to, want):
    x = np.array([2.7, -2.7, 0.0, 1.0, -1.9], np.float32)
    if to == "u8":  # negative values wrap modulo 256 after truncation, as C casts do on x86
        x = np.array([2.7, -2.0, 0.3, 1.0, -1.0], np.float32)
    (y,) = run_op("Cast", [x], {"to": to})
    np.testing.assert_array_equal(y, np.asarray(want, dtype=y.dtype))


def test_cast_to_f16_rounds_to_nearest_even(run_op):
    # 1 + 2^-11 lies halfway between f16 neighbours 1 and 1 + 2^-10: ties go to even (1).
    x = np.array([1 + 2**-11, 1 + 3 * 2**-11], np.float32)
    (y,) = run_op("Cast", [x], {"to": "f16"})
    np.testing.assert_array_equal(y.astype(np.float64), [1.0, 1 + 2 * 2**-10])


def test_integer_pow(run_op):
    base = np.array([2, -3, 5, 2], np.int64)
    (y,) = run_op("Pow", [base, np.array([10, 3, 0, 1], np.int64)])
    np.testing.assert_array_equal(y, [1024, -27, 1, 2])
    (z,) = run_op("Pow", [base, np.array([-1, 2, -2, -3], np.int64)])
    np.testing.assert_array_equal(z, [0, 9, 0, 0])  # 2^-1 = 0.5 truncates to 0


def test_erf_matches_math_erf_everywhere():
    x = np.concatenate([np.linspace(-7, 7, 14001), [0.0, -0.0, 1e-30, 2.5, -2.5, 30.0]])
    got = erf(x)
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(got, want, rtol=0, atol=5e-15)
    assert np.isnan(erf(np.array([np.nan]))[0])
    np.testing.assert_array_equal(erf(np.array([np.inf, -np.inf])), [1.0, -1.0])


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(run_op, approximate):
    x = np.linspace(-6, 6, 49).astype(np.float32)
    (y,) = run_op("Gelu", [x], {"approximate": approximate})
    if approximate == "none":
        want = [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)]
    else:
        c = math.sqrt(2 / math.pi)
        want = [0.5 * v * (1 + math.tanh(c * (v + 0.044715 * v**3))) for v in x.astype(np.float64)]
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-7)


def test_clip_on_integers_clamps_infinite_bounds(run_op):
    x = np.array([-(2**31), -5, 0, 7, 2**31 - 1], np.int32)
    (y,) = run_op("Clip", [x], {"max": 6.0})
    np.testing.assert_array_equal(y, [-(2**31), -5, 0, 6, 6])
    (z,) = run_op("Clip", [x], {})
    np.testing.assert_array_equal(z, x)


def test_softmax_and_logsumexp_survive_huge_logits(run_op):
    x = np.array([[1000.0, 1000.0, -1000.0]], np.float32)
    (s,) = run_op("Softmax", [x], {"axis": 1})
    np.testing.assert_allclose(s, [[0.5, 0.5, 0.0]])
    (ls,) = run_op("LogSoftmax", [x], {"axis": 1})
    np.testing.assert_allclose(ls[0, :2], [-math.log(2)] * 2, rtol=1e-6)
    (r,) = run_op("ReduceLogSumExp", [x], {"axes": (1,), "keepdims": 0})
    np.testing.assert_allclose(r, [1000 + math.log(2)], rtol=1e-6)


def test_shape_size_and_constant_of_shape(run_op):
    x = np.zeros((2, 3, 4, 5), np.float32)
    (s,) = run_op("Shape", [x], {})
    np.testing.assert_array_equal(s, [2, 3, 4, 5])
    (s2,) = run_op("Shape", [x], {"start": 1, "end": -1})
    np.testing.assert_array_equal(s2, [3, 4])
    (s3,) = run_op("Shape", [x], {"start": -9, "end": 99})
    np.testing.assert_array_equal(s3, [2, 3, 4, 5])
    (n,) = run_op("Size", [x])
    assert n.shape == () and int(n) == 120 and n.dtype == np.int64
    (c,) = run_op("ConstantOfShape", [], {"shape": (2, 1), "value": 3.0, "dtype": "i32"})
    np.testing.assert_array_equal(c, [[3], [3]])
    (d,) = run_op("ConstantOfShape", [], {"shape": (3,)})
    assert d.dtype == np.float32 and not d.any()


@pytest.mark.parametrize(
    ("start", "limit", "delta", "want"),
    [
        (np.int64(1), np.int64(10), np.int64(3), [1, 4, 7]),
        (np.int64(5), np.int64(-1), np.int64(-2), [5, 3, 1]),
        (np.int32(3), np.int32(3), np.int32(1), []),
        (np.float32(2.5), np.float32(-1.0), np.float32(-0.75), [2.5, 1.75, 1.0, 0.25, -0.5]),
    ],
)
def test_range(run_op, start, limit, delta, want):
    inputs = [np.asarray(v) for v in (start, limit, delta)]
    (y,) = run_op("Range", inputs, const=True)
    np.testing.assert_allclose(y, want)
    assert y.dtype == inputs[0].dtype


def test_identity_and_nonzero(run_op):
    x = np.array([[0, 2, 0], [3, 0, 4]], np.int64)
    (same,) = run_op("Identity", [x])
    np.testing.assert_array_equal(same, x)
    (nz,) = run_op("NonZero", [x], const=True)
    np.testing.assert_array_equal(nz, [[0, 1, 1], [1, 0, 2]])


@pytest.mark.parametrize(
    ("equation", "shapes", "want"),
    [
        ("ij,jk", [(2, 3), (3, 4)], (2, 4)),
        ("ba,ab", [(2, 3), (3, 2)], ()),
        ("...ij,...jk->...ik", [(5, 1, 2, 3), (4, 3, 6)], (5, 4, 2, 6)),
        ("i...->...", [(3, 4, 5)], (4, 5)),
        ("ii->i", [(3, 3)], (3,)),
        ("bij", [(2, 3, 4)], (2, 3, 4)),
        ("jiB", [(2, 3, 4)], (4, 3, 2)),
    ],
)
def test_einsum_shape_rule(run_op, f32, equation, shapes, want):
    inputs = [f32(*s) for s in shapes]
    (y,) = run_op("Einsum", inputs, {"equation": equation})
    assert y.shape == want
    np.testing.assert_allclose(y, np.einsum(equation, *inputs), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("starts", "ends", "axes", "steps", "index"),
    [
        ((1,), (2**63 - 1,), (0,), (1,), np.s_[1:]),
        ((-1,), (-(2**63),), (0,), (-1,), np.s_[::-1]),
        ((-100,), (3,), (0,), (2,), np.s_[0:3:2]),
        ((10,), (0,), (0,), (-3,), np.s_[9:0:-3]),
        ((2, -1), (0, 100), (1, 0), (-1, 1), np.s_[-1:, 2:0:-1]),
        ((3,), (1,), (0,), (1,), np.s_[3:1]),
    ],
)
def test_slice_clamps_like_onnx(run_op, starts, ends, axes, steps, index):
    x = np.arange(60, dtype=np.float32).reshape(10, 6)
    (y,) = run_op("Slice", [x], {"starts": starts, "ends": ends, "axes": axes, "steps": steps})
    np.testing.assert_array_equal(y, x[index])


def test_topk_orders_ties_by_index(run_op):
    x = np.array([[1, 3, 3, 2, 3, 1]], np.int32)
    v, i = run_op("TopK", [x], {"k": 4, "axis": 1}, n_out=2)
    np.testing.assert_array_equal(v, [[3, 3, 3, 2]])
    np.testing.assert_array_equal(i, [[1, 2, 4, 3]])
    v, i = run_op("TopK", [x], {"k": 3, "axis": 1, "largest": 0}, n_out=2)
    np.testing.assert_array_equal(v, [[1, 1, 2]])
    np.testing.assert_array_equal(i, [[0, 5, 3]])
    u = np.array([[250, 3, 250]], np.uint8)
    v, i = run_op("TopK", [u], {"k": 2, "axis": 1}, n_out=2)
    np.testing.assert_array_equal(i, [[0, 2]])


def test_arg_max_first_and_last(run_op):
    x = np.array([[1.0, 5.0, 5.0, 2.0]], np.float32)
    (first,) = run_op("ArgMax", [x], {"axis": 1})
    (last,) = run_op("ArgMax", [x], {"axis": 1, "select_last_index": 1, "keepdims": 0})
    np.testing.assert_array_equal(first, [[1]])
    np.testing.assert_array_equal(last, [2])


def test_cumsum_exclusive_reverse(run_op):
    x = np.array([[1, 2, 3, 4]], np.int64)
    (y,) = run_op("CumSum", [x], {"axis": 1, "exclusive": 1, "reverse": 1})
    np.testing.assert_array_equal(y, [[9, 7, 4, 0]])


def test_onehot_wraps_negatives_and_ignores_out_of_range(run_op):
    idx = np.array([0, -1, 3, -4, 2], np.int64)
    (y,) = run_op("OneHot", [idx], {"depth": 3, "values": (-1.0, 7.0), "axis": 0})
    want = np.full((3, 5), -1.0)
    for col, row in enumerate([0, 2, None, None, 2]):
        if row is not None:
            want[row, col] = 7.0
    np.testing.assert_array_equal(y, want)


def test_scatter_reductions_accumulate_repeated_indices(run_op):
    data = np.ones((3, 2), np.float32)
    idx = np.array([[1], [1], [-1]], np.int64)
    upd = np.array([[1, 2], [3, 4], [5, 6]], np.float32)
    (add,) = run_op("ScatterND", [data, idx, upd], {"reduction": "add"})
    np.testing.assert_array_equal(add, [[1, 1], [5, 7], [6, 7]])
    (mul,) = run_op("ScatterND", [data, idx, upd], {"reduction": "mul"})
    np.testing.assert_array_equal(mul, [[1, 1], [3, 8], [5, 6]])
    e_idx = np.array([[0, -1], [0, 0]], np.int64)
    e_upd = np.array([[4, 5], [6, 7]], np.float32)
    (mx,) = run_op("ScatterElements", [data, e_idx, e_upd], {"axis": 1, "reduction": "max"})
    np.testing.assert_array_equal(mx, [[4, 5], [7, 1], [1, 1]])


def test_gather_elements_and_gather_wrap_negative_indices(run_op):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    (g,) = run_op("GatherElements", [x, np.array([[-1, 0], [1, -3]], np.int64)], {"axis": 0})
    np.testing.assert_array_equal(g, [[8, 1], [4, 1]])
    (h,) = run_op("Gather", [x, np.array(-1, np.int64)], {"axis": 1})
    np.testing.assert_array_equal(h, [3, 7, 11])


def test_resize_uses_the_given_scale_in_the_coordinate_transform(run_op):
    # 4 -> floor(4 * 1.7) = 6 samples; half_pixel: x_in = (x_out + 0.5) / 1.7 - 0.5,
    # clamped to [0, 3]; linear interpolation between neighbours.
    x = np.array([[[0.0, 10.0, 20.0, 40.0]]], np.float32)
    attrs = {"mode": "linear", "sizes": (1, 1, 6), "scales": (1.0, 1.0, 1.7)}
    (y,) = run_op("Resize", [x], attrs)
    want = []
    for o in range(6):
        c = min(max((o + 0.5) / 1.7 - 0.5, 0.0), 3.0)
        lo = int(c)
        hi = min(lo + 1, 3)
        want.append(x[0, 0, lo] * (1 - (c - lo)) + x[0, 0, hi] * (c - lo))
    np.testing.assert_allclose(y[0, 0], want, rtol=1e-6, atol=1e-5)
    (z,) = run_op("Resize", [x], {"mode": "linear", "sizes": (1, 1, 6)})
    assert not np.allclose(z, y)  # without scales the transform uses 6 / 4


def test_nearest_rounding_at_exact_halves(run_op):
    x = np.arange(4, dtype=np.float32).reshape(1, 1, 4)
    # asymmetric, scale 2/3: x_in = x_out * 1.5 = 0, 1.5, 3, 4.5 (clamped to 3)
    base = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "sizes": (1, 1, 3)}
    base["scales"] = (1.0, 1.0, 2.0 / 3.0)
    expected = {"round_prefer_floor": [0, 1, 3], "round_prefer_ceil": [0, 2, 3], "floor": [0, 1, 3]}
    for mode, want in expected.items():
        (y,) = run_op("Resize", [x], {**base, "nearest_mode": mode})
        np.testing.assert_array_equal(y[0, 0], want, err_msg=mode)
