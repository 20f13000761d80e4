"""npz_tool compare semantics, checked against arithmetic written out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sophonc.compare import (
    CLOSE,
    EQUAL,
    NOT_EQUAL,
    NOT_MATCH,
    NOT_SIMILAR,
    SIMILAR,
    compare_arrays,
    compare_tensors,
    cosine_similarity,
    euclidean_similarity,
    format_summary,
    format_table,
    parse_excepts,
    parse_tolerance,
    pick_names,
    sqnr_db,
)
from sophonc.errors import SophonError

TOL = (0.99, 0.99)


def test_metrics_by_hand() -> None:
    a = np.array([1.0, 2.0, 2.0])
    b = np.array([1.0, 2.0, 3.0])
    # a.b = 1 + 4 + 6 = 11; |a| = 3; |b| = sqrt(14)
    assert cosine_similarity(a, b) == pytest.approx(11 / (3 * math.sqrt(14)), abs=1e-12)
    # ||a-b|| = 1; (a+b)/2 = [1, 2, 2.5] -> norm sqrt(11.25)
    assert euclidean_similarity(a, b) == pytest.approx(1 - 1 / (math.sqrt(11.25) + 1e-7))
    # signal: a - 5/3 -> sum of squares 2/3; noise a-b = [0,0,-1] -> centred sum 2/3
    assert sqnr_db(a, b) == pytest.approx(0.0, abs=1e-12)


def test_sqnr_by_hand_nonzero() -> None:
    a = np.array([0.0, 2.0, 4.0, 6.0])  # centred sum of squares 9+1+1+9 = 20
    b = np.array([0.5, 2.0, 4.0, 6.0])  # noise [-0.5,0,0,0] mean -0.125 -> 0.1875
    assert sqnr_db(a, b) == pytest.approx(10 * math.log10(20 / 0.1875))
    assert sqnr_db(a, a) == math.inf


def test_cosine_of_all_zero_is_zero() -> None:
    assert cosine_similarity(np.zeros(4), np.ones(4)) == 0.0
    r = compare_tensors("z", np.zeros(4, np.float32), np.ones(4, np.float32), TOL)
    assert r.status == NOT_SIMILAR
    assert r.similarity is not None
    assert r.similarity.cosine == 0.0


def test_equal() -> None:
    r = compare_tensors("t", np.arange(6.0).reshape(2, 3), np.arange(6.0).reshape(2, 3), TOL)
    assert r.status == EQUAL
    assert r.passed


@pytest.mark.parametrize(("delta", "order"), [(5e-6, 5), (5e-5, 4), (5e-4, 3)])
def test_close_orders(delta: float, order: int) -> None:
    # allclose: |a-b| <= 1e-8 + 10^-k * |b| with |b| = 1 + delta ~ 1
    a = np.array([1.0, 1.0])
    b = np.array([1.0, 1.0 + delta])
    r = compare_tensors("c", a, b, TOL)
    assert r.status == CLOSE
    assert r.close_order == order


def test_beyond_close_falls_to_similarity() -> None:
    a = np.array([1.0, 1.0])
    b = np.array([1.0, 1.005])  # rel diff 5e-3 > 1e-3: not CLOSE
    r = compare_tensors("s", a, b, TOL)
    assert r.status == SIMILAR
    r2 = compare_tensors("s", a, b, (0.9999999, 0.99))
    assert r2.status == NOT_SIMILAR


def test_tolerance_is_strict_greater() -> None:
    a = np.array([1.0, 0.0])
    b = np.array([1.0, 1.0])  # cos = 1/sqrt(2)
    cos = 1 / math.sqrt(2)
    assert compare_tensors("x", a, b, (cos, -10.0)).status == NOT_SIMILAR
    assert compare_tensors("x", a, b, (cos - 1e-9, -10.0)).status == SIMILAR


def test_nan_and_inf_are_replaced() -> None:
    a = np.array([np.nan, np.inf, -np.inf, 1.0])
    b = np.array([0.0, 10000.0, -10000.0, 1.0])
    r = compare_tensors("n", a, b, TOL)
    assert r.status == SIMILAR
    assert r.similarity is not None
    assert r.similarity.cosine == pytest.approx(1.0)
    assert r.similarity.euclid == pytest.approx(1.0)


def test_shapes() -> None:
    assert compare_tensors("m", np.zeros((2, 3)), np.zeros(4), TOL).status == NOT_MATCH
    assert compare_tensors("r", np.ones((1, 6)), np.ones(6), TOL).status == EQUAL
    cropped = compare_tensors("c", np.ones((1, 3, 4)), np.ones((1, 3, 6)), TOL)
    assert cropped.status == EQUAL


def test_int8_difference_is_not_equal() -> None:
    a = np.array([1, 2, 3], np.int8)
    b = np.array([1, 2, 4], np.int8)
    r = compare_tensors("q", a, b, TOL)
    assert r.status == NOT_EQUAL
    assert not r.passed


def test_report_summary_and_worst() -> None:
    target = {
        "in": np.ones(3),
        "mid": np.array([1.0, 2.0, 2.0]),
        "out": np.array([1.0, 0.0]),
        "only_here": np.ones(1),
    }
    ref = {"in": np.ones(3), "mid": np.array([1.0, 2.0, 3.0]), "out": np.array([1.0, 1.0])}
    rep = compare_arrays(target, ref, TOL, compare_all=True)
    assert [r.name for r in rep.rows] == ["in", "mid", "out"]
    assert not rep.passed
    worst = rep.worst()
    assert worst is not None
    assert worst.name == "out"
    assert rep.min_similarity.cosine == pytest.approx(1 / math.sqrt(2))
    assert rep.counts() == {EQUAL: 1, NOT_SIMILAR: 2}
    lines = format_table(rep) + format_summary(rep)
    assert any(line.startswith("out") and NOT_SIMILAR in line for line in lines)
    assert lines[-1].endswith("FAILED")
    passing = compare_arrays(target, ref, TOL, excepts={"mid", "out"})
    assert passing.passed
    assert [r.name for r in passing.rows] == ["in"]


def test_empty_report_does_not_pass() -> None:
    assert not compare_arrays({"a": np.ones(1)}, {"b": np.ones(1)}).passed


def test_sub_sampling_keeps_about_200_and_the_last() -> None:
    names = [f"t{i}" for i in range(450)]
    picked = pick_names(names, 200)
    assert len(picked) == 200
    assert picked[0] == "t0"
    assert picked[-1] == "t449"
    data = {n: np.ones(2) for n in names}
    assert len(compare_arrays(data, data).rows) == 200
    assert compare_arrays(data, data).skipped == 250
    assert len(compare_arrays(data, data, compare_all=True).rows) == 450


def test_flag_parsing() -> None:
    assert parse_tolerance("0.99,0.9") == (0.99, 0.9)
    with pytest.raises(SophonError, match="--tolerance"):
        parse_tolerance("0.99")
    assert parse_excepts("-") == set()
    assert parse_excepts("a, b") == {"a", "b"}
