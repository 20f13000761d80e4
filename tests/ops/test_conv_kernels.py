"""Conv, ConvTranspose and the pools against loop-by-loop references.

Each Conv case is chosen to take one of the kernel's strategies (im2col, shifted
outputs, depthwise, 1x1), with strides, dilations, uneven pads, groups, batches and
1-D / 3-D inputs; small tile sizes force the tiled paths to split their work.
"""

from __future__ import annotations

import numpy as np
import pytest

import sophonc.ops.library.conv as conv_module

CONV_CASES = {
    "im2col": ((2, 3, 9, 8), (4, 3, 3, 3), {"pads": (1, 0, 2, 1), "strides": (2, 1)}),
    "im2col_grouped": (
        (1, 4, 7, 9),
        (6, 2, 2, 3),
        {"group": 2, "strides": (3, 2), "pads": (0, 1, 1, 0)},
    ),
    "shifted": ((1, 12, 7, 8), (3, 12, 3, 3), {"pads": (1, 2, 0, 1)}),
    "shifted_grouped_dilated": (
        (2, 12, 7, 6),
        (4, 6, 3, 2),
        {"group": 2, "pads": (2, 1, 2, 0), "dilations": (2, 1)},
    ),
    "depthwise": (
        (1, 5, 8, 7),
        (5, 1, 3, 3),
        {"group": 5, "pads": (1, 1, 1, 1), "strides": (2, 1)},
    ),
    "depthwise_multiplier": (
        (2, 3, 6, 7),
        (6, 1, 3, 2),
        {"group": 3, "dilations": (2, 3), "pads": (2, 0, 1, 3)},
    ),
    "pointwise_strided": ((2, 5, 7, 6), (4, 5, 1, 1), {"strides": (2, 3)}),
    "conv1d": ((2, 9, 11), (2, 9, 3), {"pads": (2, 1), "dilations": (2,)}),
    "conv3d": (
        (1, 3, 4, 5, 4),
        (2, 3, 2, 3, 2),
        {"pads": (1, 0, 1, 0, 1, 1), "strides": (1, 2, 1)},
    ),
}


def _conv_attrs(w_shape, attrs):
    r = len(w_shape) - 2
    full = {
        "kernel_shape": tuple(w_shape[2:]),
        "strides": (1,) * r,
        "pads": (0,) * (2 * r),
        "dilations": (1,) * r,
        "group": 1,
    }
    full.update(attrs)
    return full


#: Block-size settings: the defaults, tiny blocks (every tiled loop runs many
#: times), and the flattened-grid depthwise path for every size in tiny blocks.
BLOCKING = {
    "default": {},
    "tiny_tiles": {"_TILE": 64, "_MIN_TILE_POSITIONS": 1},
    "flat_depthwise": {"_FLAT_MIN": 1, "_FLAT_BLOCK": 16},
}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", sorted(CONV_CASES))
@pytest.mark.parametrize("blocking", sorted(BLOCKING))
def test_conv_matches_direct_definition(run_op, naive, f32, monkeypatch, case, bias, blocking):
    for name, value in BLOCKING[blocking].items():
        monkeypatch.setattr(conv_module, name, value)
    x_shape, w_shape, attrs = CONV_CASES[case]
    x, w = f32(*x_shape), f32(*w_shape)
    b = f32(w_shape[0]) if bias else None
    a = _conv_attrs(w_shape, attrs)
    (y,) = run_op("Conv", [x, w, b], a)
    want = naive.conv(x, w, b, a["strides"], a["pads"], a["dilations"], a["group"])
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


def test_conv_strategies_are_the_ones_the_cases_name():
    geo = conv_module.ConvGeometry
    shifted = CONV_CASES["shifted"]
    window = conv_module.Window((3, 3), (1, 1), (1, 1), (1, 2), (0, 1))
    g = geo(1, window, (7, 8), shifted[1][0])
    assert conv_module._prefers_shifted_outputs(g, (8, 11), shifted[0][1])
    wide = geo(1, window, (7, 8), 12)
    assert not conv_module._prefers_shifted_outputs(wide, (8, 11), 12)
    strided = geo(1, conv_module.Window((3, 3), (2, 1), (1, 1), (0, 0), (0, 0)), (3, 6), 3)
    assert not conv_module._prefers_shifted_outputs(strided, (7, 8), 12)


CONVT_CASES = {
    "strided": ((1, 3, 4, 5), (3, 2, 3, 3), {"strides": (2, 3)}),
    "pads_output_padding": (
        (2, 2, 4, 3),
        (2, 3, 3, 2),
        {"strides": (2, 2), "pads": (1, 0, 0, 1), "output_padding": (1, 1)},
    ),
    "dilated_grouped": ((1, 4, 3, 4), (4, 2, 2, 3), {"group": 2, "dilations": (2, 1)}),
    "conv1d": ((1, 3, 5), (3, 2, 4), {"strides": (3,), "pads": (1, 2)}),
    "conv3d": (
        (1, 2, 2, 3, 2),
        (2, 1, 2, 2, 3),
        {"strides": (2, 1, 2), "pads": (0, 1, 1, 1, 0, 0)},
    ),
}


@pytest.mark.parametrize("case", sorted(CONVT_CASES))
def test_conv_transpose_matches_scatter_definition(run_op, naive, f32, case):
    x_shape, w_shape, attrs = CONVT_CASES[case]
    r = len(x_shape) - 2
    x, w = f32(*x_shape), f32(*w_shape)
    b = f32(w_shape[1] * attrs.get("group", 1))
    a = {
        "kernel_shape": tuple(w_shape[2:]),
        "strides": (1,) * r,
        "pads": (0,) * (2 * r),
        "dilations": (1,) * r,
        "output_padding": (0,) * r,
        "group": 1,
        **attrs,
    }
    (y,) = run_op("ConvTranspose", [x, w, b], a)
    want = naive.conv_transpose(
        x, w, b, a["strides"], a["pads"], a["dilations"], a["output_padding"], a["group"]
    )
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-5)


POOL_CASES = [
    ((1, 2, 7, 8), {"kernel_shape": (3, 3), "strides": (2, 2), "pads": (1, 1, 1, 1)}),
    (
        (2, 1, 8, 8),
        {"kernel_shape": (3, 2), "strides": (2, 3), "pads": (1, 0, 1, 1), "ceil_mode": 1},
    ),
    (
        (1, 2, 9, 7),
        {"kernel_shape": (2, 2), "dilations": (2, 2), "strides": (2, 1), "ceil_mode": 1},
    ),
    ((1, 3, 10), {"kernel_shape": (4,), "strides": (3,), "pads": (2, 1), "ceil_mode": 1}),
    (
        (1, 1, 4, 5, 6),
        {"kernel_shape": (2, 3, 2), "strides": (2, 1, 2), "pads": (0, 1, 1, 1, 0, 1)},
    ),
]


def _pool_attrs(shape, attrs):
    r = len(shape) - 2
    return {"strides": (1,) * r, "pads": (0,) * (2 * r), "dilations": (1,) * r, **attrs}


@pytest.mark.parametrize(("shape", "attrs"), POOL_CASES)
def test_max_pool_matches_window_definition(run_op, naive, f32, shape, attrs):
    x = f32(*shape)
    a = _pool_attrs(shape, attrs)
    (y,) = run_op("MaxPool", [x], a)
    want = naive.pool(
        x,
        "max",
        a["kernel_shape"],
        a["strides"],
        a["pads"],
        a["dilations"],
        bool(a.get("ceil_mode", 0)),
    )
    np.testing.assert_allclose(y, want, rtol=1e-6)


@pytest.mark.parametrize("include_pad", [0, 1])
@pytest.mark.parametrize(("shape", "attrs"), [c for c in POOL_CASES if "dilations" not in c[1]])
def test_average_pool_matches_window_definition(run_op, naive, f32, shape, attrs, include_pad):
    x = f32(*shape)
    a = {**_pool_attrs(shape, attrs), "count_include_pad": include_pad}
    (y,) = run_op("AveragePool", [x], a)
    want = naive.pool(
        x,
        "avg",
        a["kernel_shape"],
        a["strides"],
        a["pads"],
        a["dilations"],
        bool(a.get("ceil_mode", 0)),
        bool(include_pad),
    )
    np.testing.assert_allclose(y, want, rtol=1e-5, atol=1e-6)


def test_max_pool_on_integers_pads_with_the_dtype_minimum(run_op):
    x = np.array([[[[-128, -5], [-7, -128]]]], np.int8)
    (y,) = run_op("MaxPool", [x], {"kernel_shape": (2, 2), "pads": (1, 1, 1, 1)})
    assert y.dtype == np.int8
    np.testing.assert_array_equal(y[0, 0], [[-128, -5, -5], [-7, -5, -5], [-7, -7, -128]])


def test_lp_pool_is_the_p_norm_of_each_window(run_op):
    x = np.array([[[[3.0, -4.0, 1.0], [0.0, 2.0, -2.0]]]], np.float32)
    (y,) = run_op("LpPool", [x], {"kernel_shape": (1, 2), "p": 3})
    want = [[(27 + 64) ** (1 / 3), (64 + 1) ** (1 / 3)], [(0 + 8) ** (1 / 3), (8 + 8) ** (1 / 3)]]
    np.testing.assert_allclose(y[0, 0], want, rtol=1e-6)
