"""The one-op top-level modules the conformance suite compiles on every chip.

Each :class:`OpCase` builds a fresh, shape-inferred module of one core op (built
with :mod:`sophonc.ir` directly: core depends on no framework) and seeded inputs
for it; the seed comes from the case's id, so every run and every chip sees the
same numbers.

Each case also says how an error in its operands reaches its output
(:data:`ErrorPropagation`). The suite uses that to turn "the inputs and weights
were rounded to this grid" into a bound on the output error that holds for any
correct chip: rounding to INT8 codes, to f16 or to bf16 are all perturbations
of the operands, and a bound derived from the op's own mathematics is fairer
than a tolerance tuned on one chip. Three rules cover the list:

* :func:`through_op`: ops made of moves, maxima and non-negative averages obey
  ``|f(x+e) - f(x)| <= f(|e|)``, so the op itself, run on the perturbations,
  bounds the error (Sub propagates like Add; Pad fills with the error of its
  fill value);
* :func:`bilinear`: for ``f`` linear in each operand (Conv, ConvTranspose,
  MatMul, Mul, with their bias), ``|f(a+da, b+db) - f(a, b)| <=
  f(|a|+|da|, |b|+|db|) - f(|a|, |b|)`` exactly;
* :func:`lipschitz`: a smooth op scales the perturbation by at most its
  Lipschitz constant (worked out per op in :data:`CASES`), or by the per-element
  derivative bound of :func:`softmax_bound` and :func:`layer_norm_bound`
  (first order: the perturbations are a fraction of a quantization step).

A fused ReLU is 1-Lipschitz and is left out of every bound.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.types import TensorType
from sophonc.ir.value import Value
from sophonc.ops.registry import get_schema
from sophonc.passes.common.shape_inference import ShapeInferencePass

F32Array = npt.NDArray[np.float32]
F64Array = npt.NDArray[np.float64]
Feeds = dict[str, F32Array]
#: ``bound(node, operands, deltas)``: an elementwise bound of the output error of
#: ``node`` when each operand (the node's inputs, None when omitted) is off by at
#: most its delta (arrays broadcastable to the operand; zero where exact).
ErrorPropagation = Callable[[Node, Sequence[F64Array | None], Sequence[F64Array | None]], F64Array]
#: Attributes of the fused activation, left out of error bounds (it is 1-Lipschitz).
FUSED_RELU_ATTRS = ("do_relu", "relu_limit")


def run_core_op(
    op_type: str, attrs: Mapping[str, object], args: Sequence[F64Array | None]
) -> F64Array:
    """The first output of core op ``op_type`` on ``args``, as float64."""
    node = Node(op_type, [], [], attrs)
    return np.asarray(get_schema(op_type).kernel(node, list(args))[0], dtype=np.float64)


def _without_relu(attrs: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in attrs.items() if k not in FUSED_RELU_ATTRS}


def _spread(
    operands: Sequence[F64Array | None], deltas: Sequence[F64Array | None]
) -> list[F64Array | None]:
    """Each delta broadcast to its operand's shape (None stays None)."""
    spread: list[F64Array | None] = []
    for operand, delta in zip(operands, deltas, strict=True):
        if operand is None or delta is None:
            spread.append(None)
        else:
            spread.append(np.broadcast_to(np.asarray(delta, np.float64), operand.shape).copy())
    return spread


def through_op(op_type: str | None = None) -> ErrorPropagation:
    """The op (or ``op_type``, e.g. Add for Sub) evaluated on the perturbations."""

    def bound(
        node: Node, operands: Sequence[F64Array | None], deltas: Sequence[F64Array | None]
    ) -> F64Array:
        attrs = _without_relu(node.attrs)
        if node.op_type == "Pad" and node.str("mode", "constant") == "constant":
            # The fill value is rounded to the data's grid too: its error is the data's.
            data_delta = deltas[0]
            attrs["value"] = float(np.max(data_delta)) if data_delta is not None else 0.0
        return run_core_op(op_type or node.op_type, attrs, _spread(operands, deltas))

    return bound


def bilinear(
    node: Node, operands: Sequence[F64Array | None], deltas: Sequence[F64Array | None]
) -> F64Array:
    """``f(|a|+da, |b|+db, …) - f(|a|, |b|, …)`` for an op linear in each operand."""
    attrs = _without_relu(node.attrs)
    widened = [
        None if o is None or d is None else np.abs(o) + d
        for o, d in zip(operands, _spread(operands, deltas), strict=True)
    ]
    magnitudes = [None if o is None else np.abs(np.asarray(o, np.float64)) for o in operands]
    high = run_core_op(node.op_type, attrs, widened)
    low = run_core_op(node.op_type, attrs, magnitudes)
    return np.maximum(high - low, 0.0)


def lipschitz(constant: float) -> ErrorPropagation:
    """An elementwise op whose derivative never exceeds ``constant`` in magnitude."""

    def bound(
        node: Node, operands: Sequence[F64Array | None], deltas: Sequence[F64Array | None]
    ) -> F64Array:
        (dx,) = _spread(operands[:1], deltas[:1])
        assert dx is not None
        return constant * dx

    return bound


def softmax_bound(
    node: Node, operands: Sequence[F64Array | None], deltas: Sequence[F64Array | None]
) -> F64Array:
    """``|dp_i| <= 2 p_i (1 - p_i) max|dx|``: the Jacobian's row sums (first order)."""
    x, dx = operands[0], deltas[0]
    assert x is not None and dx is not None
    p = run_core_op("Softmax", node.attrs, [np.asarray(x, np.float64)])
    return 2.0 * p * (1.0 - p) * float(np.max(dx))


def layer_norm_bound(
    node: Node, operands: Sequence[F64Array | None], deltas: Sequence[F64Array | None]
) -> F64Array:
    """LayerNorm ``y = g·z + b`` with ``z = (x - mean)/sigma`` over axes axis…:

    ``dz_i/dx_j = (δ_ij - 1/N - z_i z_j / N) / sigma``, whose row sums are at most
    ``(2 + |z_i|) / sigma`` (``mean|z| <= 1``), so ``|dy_i| <= |g_i| (2 + |z_i|) /
    sigma · max|dx| + |dg_i| |z_i| + |db_i|`` (first order).
    """
    x = np.asarray(operands[0], np.float64)
    axes = tuple(range(node.int("axis", -1) % x.ndim, x.ndim))
    sigma = np.sqrt(x.var(axis=axes, keepdims=True) + node.float("epsilon", 1e-5))
    z = (x - x.mean(axis=axes, keepdims=True)) / sigma
    spread = _spread(operands, deltas)
    gamma = operands[1] if len(operands) > 1 and operands[1] is not None else np.ones(1)
    x_delta = spread[0]
    assert x_delta is not None
    result = np.abs(gamma) * (2.0 + np.abs(z)) / sigma * float(np.max(x_delta))
    if len(spread) > 1 and spread[1] is not None:
        result = result + spread[1] * np.abs(z)
    if len(spread) > 2 and spread[2] is not None:
        result = result + spread[2]
    return np.asarray(result, np.float64)


class CaseBuilder:
    """Makes the graph inputs (with their seeded feeds) and weights of one case."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.inputs: list[Value] = []
        self.feeds: Feeds = {}

    def input(
        self, name: str, shape: tuple[int, ...], std: float = 1.0, offsets: F64Array | None = None
    ) -> Value:
        """A graph input fed with ``N(0, std)`` (plus per-position ``offsets``)."""
        data = self.rng.normal(0.0, std, shape)
        if offsets is not None:
            data = data + offsets
        self.feeds[name] = data.astype(np.float32)
        value = Value(name, TensorType("f32", shape))
        self.inputs.append(value)
        return value

    def weight(self, name: str, shape: tuple[int, ...], std: float, mean: float = 0.0) -> Value:
        """A constant drawn from ``N(mean, std)``."""
        return Value.weight(name, self.rng.normal(mean, std, shape).astype(np.float32))


BuildFn = Callable[[CaseBuilder], Node]


@dataclass(frozen=True)
class OpCase:
    """One op with fixed attributes and shapes, as the conformance suite runs it.

    ``build`` makes the node from a :class:`CaseBuilder`; ``propagate`` bounds how
    operand errors reach the output (see the module docstring).
    """

    id: str
    build: BuildFn
    propagate: ErrorPropagation

    def instantiate(self) -> tuple[Module, Feeds]:
        """A fresh one-op module and its inputs (the same numbers on every call)."""
        builder = CaseBuilder(zlib.crc32(self.id.encode()))
        node = self.build(builder)
        graph = Graph(self.id, builder.inputs, [node.output], [node])
        module = Module(self.id, graph, {"platform": "SOPHONC", "state": "TOP_F32", "chip": "ALL"})
        ShapeInferencePass()(module)
        return module, builder.feeds


NCHW = (1, 4, 8, 8)


def _unary(op: str, std: float = 2.0, **attrs: object) -> BuildFn:
    def build(b: CaseBuilder) -> Node:
        return Node(op, [b.input("x", NCHW, std)], [f"y_{op}"], attrs)

    return build


def _binary(op: str, b_shape: tuple[int, ...], constant: bool, **attrs: object) -> BuildFn:
    def build(b: CaseBuilder) -> Node:
        x = b.input("a", (1, 4, 6, 6))
        other = b.weight("c", b_shape, 1.0) if constant else b.input("b", b_shape, 1.5)
        return Node(op, [x, other], [f"y_{op}"], attrs)

    return build


def _conv_grouped(b: CaseBuilder) -> Node:
    x = b.input("x", NCHW)
    w, bias = b.weight("w", (6, 2, 3, 3), 0.3), b.weight("b", (6,), 0.2)
    attrs = {
        "kernel_shape": (3, 3),
        "strides": (2, 2),
        "pads": (1, 1, 1, 1),
        "group": 2,
        "do_relu": True,
    }
    return Node("Conv", [x, w, bias], ["y_Conv"], attrs)


def _conv_depthwise(b: CaseBuilder) -> Node:
    x, w = b.input("x", (1, 6, 7, 7)), b.weight("w", (6, 1, 3, 3), 0.4)
    attrs = {"kernel_shape": (3, 3), "dilations": (2, 2), "pads": (2, 1, 2, 1), "group": 6}
    return Node("Conv", [x, w], ["y_Conv"], attrs)


def _conv_transpose(b: CaseBuilder) -> Node:
    x = b.input("x", (1, 4, 5, 5))
    w, bias = b.weight("w", (4, 2, 3, 3), 0.3), b.weight("b", (4,), 0.2)
    attrs = {
        "kernel_shape": (3, 3),
        "strides": (2, 2),
        "pads": (1, 1, 1, 1),
        "group": 2,
        "output_padding": (1, 1),
    }
    return Node("ConvTranspose", [x, w, bias], ["y_ConvTranspose"], attrs)


def _matmul(b: CaseBuilder) -> Node:
    x, w, bias = b.input("x", (1, 6, 16)), b.weight("w", (16, 12), 0.3), b.weight("b", (12,), 0.2)
    return Node("MatMul", [x, w, bias], ["y_MatMul"])


def _concat(b: CaseBuilder) -> Node:
    parts = [b.input("a", (1, 3, 4, 4)), b.input("b", (1, 5, 4, 4), 1.3)]
    return Node("Concat", parts, ["y_Concat"], {"axis": 1})


def _global_average_pool(b: CaseBuilder) -> Node:
    offsets = np.linspace(-1.0, 1.0, 8).reshape(1, 8, 1, 1)
    return Node("GlobalAveragePool", [b.input("x", (1, 8, 6, 6), 1.0, offsets)], ["y_GAP"])


def _layer_norm(b: CaseBuilder) -> Node:
    x = b.input("x", (1, 6, 16), 1.0, np.linspace(-0.5, 0.5, 16).reshape(1, 1, 16))
    gamma, beta = b.weight("g", (16,), 0.2, mean=1.0), b.weight("beta", (16,), 0.1)
    attrs = {"axis": 2, "epsilon": 1e-5}
    return Node("LayerNormalization", [x, gamma, beta], ["y_LayerNormalization"], attrs)


def _moved(op: str, **attrs: object) -> BuildFn:
    def build(b: CaseBuilder) -> Node:
        return Node(op, [b.input("x", NCHW)], [f"y_{op}"], attrs)

    return build


POOL = {"kernel_shape": (3, 3), "strides": (2, 2), "pads": (1, 1, 1, 1)}

#: The representative core ops every backend is checked on.
CASES: tuple[OpCase, ...] = (
    OpCase("conv_group2_stride2_pad1_bias_relu", _conv_grouped, bilinear),
    OpCase("conv_depthwise_dilation2_asym_pad", _conv_depthwise, bilinear),
    OpCase("convtranspose_group2_stride2_bias", _conv_transpose, bilinear),
    OpCase("matmul_weight_bias", _matmul, bilinear),
    OpCase("add_broadcast", _binary("Add", (1, 1, 6, 1), False), through_op()),
    OpCase("add_constant_relu", _binary("Add", (4, 1, 1), True, do_relu=True), through_op()),
    OpCase("sub_broadcast", _binary("Sub", (1, 4, 1, 1), False), through_op("Add")),
    OpCase("sub_constant", _binary("Sub", (1, 1, 1, 6), True), through_op("Add")),
    OpCase("mul_broadcast", _binary("Mul", (1, 1, 6, 6), False), bilinear),
    OpCase("mul_constant", _binary("Mul", (4, 1, 1), True), bilinear),
    OpCase("concat_channels", _concat, through_op()),
    OpCase("maxpool_3x3_stride2_pad1", _moved("MaxPool", **POOL), through_op()),
    OpCase("averagepool_3x3_stride2_pad1", _moved("AveragePool", **POOL), through_op()),
    OpCase("globalaveragepool", _global_average_pool, through_op()),
    OpCase("relu", _unary("Relu"), lipschitz(1.0)),
    # sigma' <= 1/4.
    OpCase("sigmoid", _unary("Sigmoid", 3.0), lipschitz(0.25)),
    # (x sigma(x))' = sigma(x)(1 + x(1 - sigma(x))) peaks at 1.0998 (x ~ 2.4).
    OpCase("silu", _unary("SiLU", 3.0), lipschitz(1.1)),
    OpCase("tanh", _unary("Tanh"), lipschitz(1.0)),
    # (x (x + 3) / 6)' = (2x + 3) / 6 reaches 1.5 at x = 3.
    OpCase("hardswish", _unary("HardSwish", 3.0), lipschitz(1.5)),
    OpCase("leakyrelu_0.1", _unary("LeakyRelu", alpha=0.1), lipschitz(1.0)),
    # (x Phi(x))' = Phi(x) + x phi(x) peaks at 1.129 (x = sqrt 2).
    OpCase("gelu", _unary("Gelu"), lipschitz(1.13)),
    OpCase("clip_-1_1.5", _unary("Clip", 1.5, min=-1.0, max=1.5), lipschitz(1.0)),
    OpCase("softmax_last_axis", _unary("Softmax", 2.0, axis=3), softmax_bound),
    OpCase("layernorm_last_axis", _layer_norm, layer_norm_bound),
    OpCase("reshape", _moved("Reshape", shape=(1, 16, 16)), through_op()),
    OpCase("transpose_nhwc", _moved("Transpose", perm=(0, 2, 3, 1)), through_op()),
    OpCase(
        "slice_strided",
        _moved("Slice", starts=(1, 0), ends=(7, 8), axes=(2, 3), steps=(1, 2)),
        through_op(),
    ),
    OpCase(
        "resize_nearest_x2",
        _moved(
            "Resize",
            mode="nearest",
            sizes=(1, 4, 16, 16),
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        ),
        through_op(),
    ),
    OpCase(
        "pad_constant",
        _moved("Pad", pads=(0, 0, 1, 2, 0, 0, 2, 1), mode="constant", value=0.5),
        through_op(),
    ),
    OpCase(
        "pad_reflect", _moved("Pad", pads=(0, 0, 2, 1, 0, 0, 1, 2), mode="reflect"), through_op()
    ),
    OpCase("reducemean_last_axis", _moved("ReduceMean", axes=(3,), keepdims=1), through_op()),
)


def case_ids() -> list[str]:
    """The ids of :data:`CASES`, in order (the suite's parameter ids)."""
    return [case.id for case in CASES]


#: Weight layouts of the hand-computed pointwise convolution: one scale for all
#: output channels (any symmetric chip), or one per channel (per-channel chips).
UNIFORM_SCALES = "uniform_scales"
PER_CHANNEL_SCALES = "per_channel_scales"


def pointwise_conv_module(
    x_codes: npt.ArrayLike,
    x_scale: float,
    w_codes: npt.ArrayLike,
    w_scales: Sequence[float],
    b_codes: npt.ArrayLike,
) -> tuple[Module, Feeds]:
    """A 1×1 Conv whose input, weights and bias are integer codes times their scales.

    The bias is in units of ``w_scale[c] · x_scale``, as chips store it (int32).
    """
    x_data = np.asarray(x_codes, np.float64) * x_scale
    w_real = np.asarray(w_codes, np.float64) * np.asarray(w_scales).reshape(-1, 1, 1, 1)
    b_real = np.asarray(b_codes, np.float64) * np.asarray(w_scales) * x_scale
    x = Value("x", TensorType("f32", tuple(x_data.shape)))
    node = Node(
        "Conv",
        [
            x,
            Value.weight("w", w_real.astype(np.float32)),
            Value.weight("b", b_real.astype(np.float32)),
        ],
        ["y_Conv"],
        {"kernel_shape": (1, 1)},
    )
    module = Module("pointwise_conv", Graph("pointwise_conv", [x], [node.output], [node]))
    ShapeInferencePass()(module)
    return module, {"x": x_data.astype(np.float32)}


def relu_module(x_codes: npt.ArrayLike, x_scale: float) -> tuple[Module, Feeds]:
    """A Relu whose input is integer codes times ``x_scale``."""
    x_data = (np.asarray(x_codes, np.float64) * x_scale).astype(np.float32)
    x = Value("x", TensorType("f32", tuple(x_data.shape)))
    node = Node("Relu", [x], ["y_Relu"])
    module = Module("relu", Graph("relu", [x], [node.output], [node]))
    ShapeInferencePass()(module)
    return module, {"x": x_data}
