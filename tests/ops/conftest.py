"""Fixtures of the core op tests: run one op through its shape rule and its kernel.

Every run also checks the contract the interpreter and constant folding rely on: the
kernel returns exactly as many arrays as the shape rule types, each with the dtype
and shape the rule declares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from sophonc.ir.node import Node
from sophonc.ir.types import TensorType, dtype_name, numpy_dtype
from sophonc.ir.value import Value
from sophonc.ops import get_schema

RunOp = Callable[..., list[np.ndarray]]


def make_node(
    op: str,
    inputs: Sequence[np.ndarray | None],
    attrs: Mapping[str, object] | None = None,
    *,
    n_out: int = 1,
    const: bool = False,
) -> Node:
    """A node of ``op`` over values typed like ``inputs`` (weights when ``const``)."""
    values: list[Value | None] = []
    for i, a in enumerate(inputs):
        if a is None:
            values.append(None)
        elif const:
            values.append(Value(f"in{i}", TensorType(dtype_name(a.dtype), a.shape), const=a))
        else:
            values.append(Value(f"in{i}", TensorType(dtype_name(a.dtype), tuple(a.shape))))
    return Node(op, values, [f"out{i}" for i in range(n_out)], attrs or {})


def run_op(
    op: str,
    inputs: Sequence[np.ndarray | None],
    attrs: Mapping[str, object] | None = None,
    *,
    n_out: int = 1,
    const: bool = False,
) -> list[np.ndarray]:
    """Infer and run ``op``; assert the kernel honours the types the rule declares."""
    node = make_node(op, inputs, attrs, n_out=n_out, const=const)
    schema = get_schema(op)
    types: list[TensorType] = list(schema.infer(node))
    outputs = [np.asarray(o) for o in schema.kernel(node, list(inputs))]
    assert len(outputs) == len(types) == n_out
    for t, out in zip(types, outputs, strict=True):
        assert out.dtype == numpy_dtype(t.dtype), f"{op}: {out.dtype} vs declared {t.dtype}"
        assert out.shape == t.shape, f"{op}: {out.shape} vs declared {t.shape}"
    return outputs


@pytest.fixture(name="run_op")
def run_op_fixture() -> RunOp:
    """:func:`run_op` as a fixture (conftest modules are not importable in tests)."""
    return run_op


@pytest.fixture(name="make_node")
def make_node_fixture() -> Callable[..., Node]:
    """:func:`make_node` as a fixture."""
    return make_node


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh for every test."""
    return np.random.default_rng(20240611)


def f32(rng: np.random.Generator, *shape: int, lo: float = -1.0, hi: float = 1.0) -> Any:
    """Uniform f32 samples (helper shared through the ``f32`` fixture)."""
    return rng.uniform(lo, hi, shape).astype(np.float32)


@pytest.fixture(name="f32")
def f32_fixture(rng: np.random.Generator) -> Callable[..., np.ndarray]:
    """``f32(*shape, lo=-1, hi=1)``: seeded uniform f32 samples."""
    return lambda *shape, lo=-1.0, hi=1.0: f32(rng, *shape, lo=lo, hi=hi)


@pytest.fixture(scope="session")
def naive() -> Any:
    """The loop-by-loop reference module ``naive.py`` of this folder."""
    import importlib.util
    import sys
    from pathlib import Path

    key = "sophonc_ops_tests_naive"
    if key not in sys.modules:
        spec = importlib.util.spec_from_file_location(key, Path(__file__).with_name("naive.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return sys.modules[key]
