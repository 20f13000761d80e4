"""Shape rules reject inputs that do not fit, with a message naming op and shapes.

Malformed attributes (missing, unknown enum value) are malformed IR: IRError.
"""

from __future__ import annotations

import numpy as np
import pytest

from sophonc.errors import IRError, ShapeError
from sophonc.ops import get_schema


def _infer(make_node, op, inputs, attrs=None, *, n_out=1, const=False):
    return get_schema(op).infer(make_node(op, inputs, attrs, n_out=n_out, const=const))


def _z(*shape, dtype=np.float32):
    return np.zeros(shape, dtype)


CASES = [
    ("Add", [_z(2, 3), _z(4)], {}, r"Add: shapes \[2, 3\] and \[4\] do not broadcast"),
    ("Where", [_z(3, dtype=bool), _z(2), _z(3)], {}, r"Where: shapes \[3\] and \[2\] and \[3\]"),
    ("Mul", [_z(2), _z(2, dtype=np.int64)], {}, r"Mul: inputs have different dtypes f32, i64"),
    ("And", [_z(2), _z(2)], {}, r"And: input 0 must be bool, not f32"),
    (
        "MatMul",
        [_z(3, 4), _z(5, 6)],
        {},
        r"MatMul: inner dimensions 4 and 5 of \[3, 4\] @ \[5, 6\]",
    ),
    ("MatMul", [_z(2, 3, 4), _z(3, 4, 5)], {}, r"MatMul: shapes \[2\] and \[3\] do not broadcast"),
    (
        "MatMul",
        [_z(3, 4), _z(4, 5), _z(3)],
        {},
        r"MatMul: bias \[3\] does not broadcast onto \[3, 5\]",
    ),
    (
        "Conv",
        [_z(1, 3, 8, 8), _z(4, 2, 3, 3)],
        {"kernel_shape": (3, 3)},
        r"Conv: weight \[4, 2, 3, 3\] with group 1 does not fit input \[1, 3, 8, 8\]",
    ),
    (
        "Conv",
        [_z(1, 3, 2, 2), _z(4, 3, 3, 3)],
        {"kernel_shape": (3, 3)},
        r"Conv: the kernel \(extent \[3, 3\]\) is larger than the padded input \[2, 2\]",
    ),
    (
        "Conv",
        [_z(1, 3, 8, 8), _z(4, 3, 3, 3), _z(3)],
        {"kernel_shape": (3, 3)},
        r"Conv: bias \[3\] should be \[4\]",
    ),
    (
        "Conv",
        [_z(1, 3, 8, 8), _z(4, 3, 3, 3)],
        {"kernel_shape": (3, 3), "strides": (1,)},
        r"Conv: strides \[1\] has 1 entries but the input's 2 spatial axes need 2",
    ),
    (
        "ConvTranspose",
        [_z(1, 3, 4, 4), _z(2, 3, 3, 3)],
        {"kernel_shape": (3, 3)},
        r"ConvTranspose: weight \[2, 3, 3, 3\] with group 1 does not fit input \[1, 3, 4, 4\]",
    ),
    ("MaxPool", [_z(1, 3)], {"kernel_shape": (2,)}, r"MaxPool: input \[1, 3\] needs a batch"),
    ("Reshape", [_z(2, 3)], {"shape": (4, 2)}, r"Reshape: cannot reshape \[2, 3\] \(6 elements\)"),
    ("Concat", [_z(2, 3), _z(3, 3)], {"axis": 1}, r"Concat: inputs \[2, 3\], \[3, 3\] differ"),
    ("Split", [_z(2, 6)], {"axis": 1, "split": (2, 3)}, r"Split: sizes \[2, 3\] do not add up"),
    ("Gather", [_z(2, 3), _z(2, dtype=np.int64)], {"axis": 2}, r"Gather: axis 2 is out of range"),
    ("Gather", [_z(2, 3), _z(2)], {"axis": 0}, r"Gather: indices \(input 1\) must be integers"),
    (
        "Transpose",
        [_z(2, 3, 4)],
        {"perm": (0, 0, 1)},
        r"Transpose: perm \[0, 0, 1\] is not a permutation",
    ),
    (
        "Expand",
        [_z(2, 3)],
        {"shape": (4, 1)},
        r"Expand: shapes \[2, 3\] and \[4, 1\] do not broadcast",
    ),
    ("Tile", [_z(2, 3)], {"repeats": (2,)}, r"Tile: repeats \[2\] need 2 non-negative values"),
    ("Pad", [_z(2, 3)], {"pads": (1, 1, 1)}, r"Pad: pads \[1, 1, 1\] need 4 non-negative values"),
    (
        "TopK",
        [_z(2, 3)],
        {"k": 4, "axis": 1},
        r"TopK: k = 4 is out of range for axis 1 of length 3",
    ),
    ("Resize", [_z(1, 2, 3)], {"sizes": (1, 2)}, r"Resize: sizes \[1, 2\] need one positive size"),
    (
        "Einsum",
        [_z(2, 3), _z(4, 5)],
        {"equation": "ij,jk->ik"},
        r"Einsum: index 'j' is both 3 and 4",
    ),
    (
        "DepthToSpace",
        [_z(1, 6, 2, 2)],
        {"blocksize": 2},
        r"DepthToSpace: channels of \[1, 6, 2, 2\]",
    ),
    (
        "BatchNormalization",
        [_z(1, 3, 2), _z(3), _z(3), _z(4), _z(3)],
        {},
        r"BatchNormalization: input 3 has shape \[4\]; it should be \[3\]",
    ),
    (
        "GroupNormalization",
        [_z(1, 6, 2), _z(6), _z(6)],
        {"num_groups": 4},
        r"num_groups 4 does not",
    ),
    ("GatherND", [_z(2, 3), _z(2, 3, dtype=np.int64)], {}, r"GatherND: index tuples of length 3"),
]


@pytest.mark.parametrize(("op", "inputs", "attrs", "message"), CASES, ids=[c[0] for c in CASES])
def test_shape_rule_names_op_and_shapes(make_node, op, inputs, attrs, message):
    with pytest.raises(ShapeError, match=message):
        _infer(make_node, op, inputs, attrs)


def test_split_needs_one_output_per_size(make_node):
    with pytest.raises(ShapeError, match=r"Split: 2 sizes for 3 outputs"):
        _infer(make_node, "Split", [_z(4)], {"axis": 0, "split": (1, 3)}, n_out=3)


def test_nonzero_needs_a_constant_input(make_node):
    with pytest.raises(ShapeError, match=r"NonZero: the output size depends on the data"):
        _infer(make_node, "NonZero", [_z(3)])
    (t,) = _infer(make_node, "NonZero", [np.array([[1, 0], [2, 3]], np.int64)], const=True)
    assert (t.dtype, t.shape) == ("i64", (2, 3))


def test_range_needs_constant_scalars(make_node):
    with pytest.raises(ShapeError, match=r"Range: start, limit and delta must be constant"):
        _infer(make_node, "Range", [_z(), _z(), _z()])


def test_unknown_input_shape_is_reported(make_node):
    node = make_node("Relu", [_z(2)])
    node.inputs[0].type = node.inputs[0].type.__class__("f32", None)
    with pytest.raises(ShapeError, match=r"Relu: input 0 'in0' has no inferred shape"):
        get_schema("Relu").infer(node)


@pytest.mark.parametrize(
    ("op", "inputs", "attrs", "message"),
    [
        ("Reshape", [_z(2)], {}, r"Reshape: attribute 'shape' is required"),
        ("Resize", [_z(1, 2)], {"sizes": (1, 4), "mode": "area"}, r"attribute 'mode' is 'area'"),
        ("Cast", [_z(2)], {"to": "f128"}, r"Cast: attribute 'to' is 'f128'"),
        ("Pad", [_z(2)], {"pads": (1, 1), "mode": "mirror"}, r"Pad: attribute 'mode' is 'mirror'"),
        ("Conv", [_z(1, 1, 4), _z(1, 1, 2)], {"pads": (-1, 0)}, r"pads \[-1, 0\] must not be"),
        ("Gelu", [_z(2)], {"approximate": "erf"}, r"attribute 'approximate' is 'erf'"),
    ],
)
def test_malformed_attributes_are_ir_errors(make_node, run_op, op, inputs, attrs, message):
    with pytest.raises(IRError, match=message):
        run_op(op, inputs, attrs)
