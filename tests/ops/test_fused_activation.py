"""The fused activation canonicalisation folds into ops, and the SiLU op it creates.

``do_relu`` applies ``max(y, 0)``; a non-negative ``relu_limit`` also caps the
result (``min(max(y, 0), relu_limit)``, a fused ReLU6 / Clip(0, limit)); the default
-1 means no cap. Each op is checked against its plain result, clipped by hand.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

FUSED = [
    ({}, None, None),
    ({"do_relu": True}, 0.0, None),
    ({"do_relu": True, "relu_limit": -1.0}, 0.0, None),
    ({"do_relu": True, "relu_limit": 0.5}, 0.0, 0.5),
    ({"do_relu": False, "relu_limit": 0.5}, None, None),
]


def _clipped(y, lo, hi):
    y = np.asarray(y, np.float64)
    if lo is not None:
        y = np.maximum(y, lo)
    if hi is not None:
        y = np.minimum(y, hi)
    return y


def _samples(rng, *shape):
    return rng.uniform(-2, 2, shape).astype(np.float32)


@pytest.mark.parametrize(("fused", "lo", "hi"), FUSED)
@pytest.mark.parametrize(
    ("op", "fn"), [("Add", np.add), ("Sub", np.subtract), ("Mul", np.multiply)]
)
def test_binary_ops(run_op, rng, fused, lo, hi, op, fn):
    a, b = _samples(rng, 3, 4), _samples(rng, 4)
    (y,) = run_op(op, [a, b], fused)
    np.testing.assert_allclose(y, _clipped(fn(a.astype(np.float64), b), lo, hi), rtol=1e-6)


@pytest.mark.parametrize(("fused", "lo", "hi"), FUSED)
def test_matmul_with_bias(run_op, rng, fused, lo, hi):
    a, b, bias = _samples(rng, 2, 3, 4), _samples(rng, 4, 5), _samples(rng, 5)
    (y,) = run_op("MatMul", [a, b, bias], fused)
    want = np.einsum("bik,kj->bij", a.astype(np.float64), b) + bias
    np.testing.assert_allclose(y, _clipped(want, lo, hi), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("fused", "lo", "hi"), FUSED)
def test_conv(run_op, naive, rng, fused, lo, hi):
    x, w, b = _samples(rng, 1, 3, 5, 6), _samples(rng, 4, 3, 3, 3), _samples(rng, 4)
    attrs = {"kernel_shape": (3, 3), "pads": (1, 1, 1, 1), **fused}
    (y,) = run_op("Conv", [x, w, b], attrs)
    want = naive.conv(x, w, b, (1, 1), (1, 1, 1, 1), (1, 1), 1)
    np.testing.assert_allclose(y, _clipped(want, lo, hi), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("fused", "lo", "hi"), FUSED)
def test_depthwise_conv(run_op, naive, rng, fused, lo, hi):
    x, w = _samples(rng, 1, 4, 5, 6), _samples(rng, 4, 1, 3, 3)
    attrs = {"kernel_shape": (3, 3), "group": 4, **fused}
    (y,) = run_op("Conv", [x, w, None], attrs)
    want = naive.conv(x, w, None, (1, 1), (0, 0, 0, 0), (1, 1), 4)
    np.testing.assert_allclose(y, _clipped(want, lo, hi), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("fused", "lo", "hi"), FUSED)
def test_conv_transpose(run_op, naive, rng, fused, lo, hi):
    x, w = _samples(rng, 1, 2, 3, 4), _samples(rng, 2, 3, 2, 2)
    attrs = {"kernel_shape": (2, 2), "strides": (2, 2), **fused}
    (y,) = run_op("ConvTranspose", [x, w], attrs)
    want = naive.conv_transpose(x, w, None, (2, 2), (0, 0, 0, 0), (1, 1), (0, 0), 1)
    np.testing.assert_allclose(y, _clipped(want, lo, hi), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("fused", "lo", "hi"), FUSED)
@pytest.mark.parametrize(("op", "kind"), [("MaxPool", "max"), ("AveragePool", "avg")])
def test_pools(run_op, naive, rng, fused, lo, hi, op, kind):
    x = _samples(rng, 1, 2, 5, 5)
    attrs = {"kernel_shape": (2, 2), "strides": (2, 2), "pads": (0, 0, 1, 1), **fused}
    (y,) = run_op(op, [x], attrs)
    want = naive.pool(x, kind, (2, 2), (2, 2), (0, 0, 1, 1), (1, 1), False)
    np.testing.assert_allclose(y, _clipped(want, lo, hi), rtol=1e-6)


@pytest.mark.parametrize(("fused", "lo", "hi"), FUSED)
def test_concat(run_op, rng, fused, lo, hi):
    a, b = _samples(rng, 2, 3), _samples(rng, 2, 1)
    (y,) = run_op("Concat", [a, b], {"axis": 1, **fused})
    np.testing.assert_allclose(y, _clipped(np.concatenate([a, b], axis=1), lo, hi))


def test_fused_relu_leaves_the_inputs_alone(run_op, rng):
    a, b = _samples(rng, 4, 4), _samples(rng, 4, 4)
    keep_a, keep_b = a.copy(), b.copy()
    run_op("Concat", [a, b], {"axis": 0, "do_relu": True, "relu_limit": 0.1})
    run_op("MaxPool", [a[None, None]], {"kernel_shape": (1, 1), "do_relu": True})
    np.testing.assert_array_equal(a, keep_a)
    np.testing.assert_array_equal(b, keep_b)


def test_silu_is_x_times_sigmoid(run_op):
    x = np.array([-100.0, -20.0, -3.0, -0.5, 0.0, 0.25, 2.0, 15.0, 90.0], np.float32)
    (y,) = run_op("SiLU", [x])
    want = [v / (1.0 + math.exp(-v)) for v in x.astype(np.float64)]
    np.testing.assert_allclose(y, want, rtol=1e-6, atol=1e-30)
    assert y.dtype == np.float32


def test_silu_equals_the_mul_sigmoid_pair_it_replaces(run_op, rng):
    x = _samples(rng, 2, 3, 4, 5) * 4
    (s,) = run_op("Sigmoid", [x])
    (pair,) = run_op("Mul", [x, s])
    (fused,) = run_op("SiLU", [x])
    np.testing.assert_allclose(fused, pair, rtol=1e-6, atol=1e-7)
