"""Every op of docs/ops.md is registered, documented, and keeps its own contract.

One sample node per op runs through the shape rule and the kernel (the ``run_op``
fixture checks that the kernel's outputs have exactly the declared dtypes and
shapes), once on run-time values and once on constants, as the frontend's
constant folding runs it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from sophonc.ops import get_schema, known_ops

DOCS = Path(__file__).resolve().parents[2] / "docs" / "ops.md"


def documented_ops() -> set[str]:
    """Op names of the first column of every table in docs/ops.md."""
    names: set[str] = set()
    for line in DOCS.read_text().splitlines():
        cells = line.split("|")
        if len(cells) < 3 or cells[1].strip() in ("op", "") or set(cells[1].strip()) <= {"-"}:
            continue
        names.update(n.strip() for n in cells[1].split(",") if re.fullmatch(r"\s*\w+\s*", n))
    return names


def test_every_documented_op_is_registered_with_a_docstring():
    documented = documented_ops()
    assert len(documented) > 100
    assert documented == set(known_ops())
    for op in documented:
        assert get_schema(op).doc, f"{op} has no docstring"


R = np.random.default_rng(7)
X = R.uniform(-2, 2, (2, 3, 4, 5)).astype(np.float32)
P = R.uniform(0.1, 2, (2, 3, 4, 5)).astype(np.float32)
V = R.uniform(0.5, 1.5, 3).astype(np.float32)
B = R.integers(0, 2, (2, 3)).astype(bool)
IV = R.integers(-3, 3, (2, 3)).astype(np.int64)
M = R.uniform(-1, 1, (3, 4)).astype(np.float32)
IDX = np.array([[1, -1], [0, 2]], np.int64)

UNARY = [
    "Relu",
    "Sigmoid",
    "Tanh",
    "Exp",
    "Abs",
    "Neg",
    "Floor",
    "Ceil",
    "Round",
    "Sign",
    "Erf",
    "Sin",
    "Cos",
    "Softplus",
    "Softsign",
    "Mish",
    "SiLU",
    "HardSwish",
    "Identity",
    "IsNaN",
    "IsInf",
    "Gelu",
    "LeakyRelu",
    "Elu",
    "Selu",
    "HardSigmoid",
]
SAMPLES: dict[str, tuple[list[np.ndarray | None], dict[str, object], int]] = {
    **{op: ([X], {}, 1) for op in UNARY},
    **{op: ([P], {}, 1) for op in ("Log", "Sqrt", "Reciprocal")},
    **{op: ([X, X[0, 0]], {}, 1) for op in ("Add", "Sub", "Mul", "Div", "Equal", "Less")},
    **{op: ([X, X[0]], {}, 1) for op in ("LessOrEqual", "Greater", "GreaterOrEqual")},
    **{op: ([X, P, X[:, :, :1]], {}, 1) for op in ("Max", "Min", "Sum", "Mean")},
    **{op: ([B, B[0]], {}, 1) for op in ("And", "Or", "Xor")},
    "Not": ([B], {}, 1),
    "Pow": ([P, X], {}, 1),
    "Mod": ([IV, np.array([2, -3, 4], np.int64)], {"fmod": 0}, 1),
    "Where": ([B[:, :, None], M[:, :1], M], {}, 1),
    "PRelu": ([X, V.reshape(3, 1, 1)], {}, 1),
    "Clip": ([X], {"min": -0.5, "max": 0.5}, 1),
    "Cast": ([X], {"to": "i64"}, 1),
    "Conv": (
        [X, R.uniform(-1, 1, (4, 3, 3, 2)).astype(np.float32), V[:1].repeat(4)],
        {"kernel_shape": (3, 2), "pads": (1, 0, 1, 1)},
        1,
    ),
    "ConvTranspose": (
        [X, R.uniform(-1, 1, (3, 2, 2, 2)).astype(np.float32), None],
        {"kernel_shape": (2, 2), "strides": (2, 1)},
        1,
    ),
    "MaxPool": ([X], {"kernel_shape": (2, 2), "ceil_mode": 1, "strides": (2, 2)}, 1),
    "AveragePool": ([X], {"kernel_shape": (3, 3), "pads": (1, 1, 1, 1)}, 1),
    "LpPool": ([X], {"kernel_shape": (2, 2), "p": 2}, 1),
    "GlobalAveragePool": ([X], {}, 1),
    "GlobalMaxPool": ([X], {}, 1),
    "BatchNormalization": ([X, V, V, V, V], {"epsilon": 1e-5}, 1),
    "InstanceNormalization": ([X, V, V], {}, 1),
    "LayerNormalization": ([X, X[0, 0], None], {"axis": 2}, 1),
    "GroupNormalization": ([X, V, V], {"num_groups": 3}, 1),
    "LRN": ([X], {"size": 3}, 1),
    "Softmax": ([X], {"axis": 1}, 1),
    "LogSoftmax": ([X], {"axis": 3}, 1),
    "MatMul": ([X, R.uniform(-1, 1, (5, 2)).astype(np.float32), V[:2]], {}, 1),
    "Einsum": ([M, M], {"equation": "ij,kj->ik"}, 1),
    "Reshape": ([X], {"shape": (6, 20)}, 1),
    "Transpose": ([X], {"perm": (3, 1, 0, 2)}, 1),
    "Concat": ([X, X[:, :1]], {"axis": 1}, 1),
    "Split": ([X], {"axis": 3, "split": (2, 3)}, 2),
    "Slice": ([X], {"starts": (1, -1), "ends": (3, 0), "axes": (1, 3), "steps": (1, -2)}, 1),
    "Gather": ([X, IDX], {"axis": 2}, 1),
    "GatherElements": ([M, IDX], {"axis": 1}, 1),
    "GatherND": ([X, IDX], {}, 1),
    "ScatterND": ([M, np.array([[2], [0]], np.int64), M[:2]], {"reduction": "add"}, 1),
    "ScatterElements": ([M, IDX, M[:2, :2]], {"axis": 0}, 1),
    "Tile": ([M], {"repeats": (2, 1)}, 1),
    "Expand": ([M[:, :1]], {"shape": (2, 1, 4)}, 1),
    "Pad": ([X], {"pads": (0, 1, 2, 0, 0, 0, 1, 3), "mode": "reflect"}, 1),
    "Resize": ([X], {"mode": "cubic", "sizes": (2, 3, 7, 3)}, 1),
    "DepthToSpace": ([np.tile(X, (1, 4, 1, 1))], {"blocksize": 2, "mode": "CRD"}, 1),
    "SpaceToDepth": ([X[:, :, :, :4]], {"blocksize": 2}, 1),
    "Shape": ([X], {"start": 1}, 1),
    "Size": ([X], {}, 1),
    "ConstantOfShape": ([], {"shape": (2, 2), "value": 1.5, "dtype": "f16"}, 1),
    "Range": ([np.array(1, np.int32), np.array(9, np.int32), np.array(2, np.int32)], {}, 1),
    "NonZero": ([B], {}, 1),
    "CumSum": ([X], {"axis": 2, "reverse": 1}, 1),
    "TopK": ([X], {"k": 2, "axis": 3}, 2),
    "ArgMax": ([X], {"axis": 1}, 1),
    "ArgMin": ([X], {"axis": 2, "keepdims": 0}, 1),
    "OneHot": ([IDX], {"depth": 4, "values": (0.0, 1.0), "axis": 1}, 1),
    "Trilu": ([X], {"upper": 0, "k": 1}, 1),
    **{
        op: ([P], {"axes": (1, 3), "keepdims": 0}, 1)
        for op in (
            "ReduceMean",
            "ReduceSum",
            "ReduceMax",
            "ReduceMin",
            "ReduceProd",
            "ReduceL1",
            "ReduceL2",
            "ReduceSumSquare",
            "ReduceLogSumExp",
        )
    },
}


def test_every_op_has_a_sample():
    assert set(SAMPLES) == set(known_ops())


@pytest.mark.parametrize("op", sorted(SAMPLES))
def test_kernel_keeps_the_declared_types_on_values_and_constants(run_op, op):
    inputs, attrs, n_out = SAMPLES[op]
    needs_const = op in ("Range", "NonZero")
    first = run_op(op, inputs, attrs, n_out=n_out, const=needs_const)
    again = run_op(op, inputs, attrs, n_out=n_out, const=True)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
