"""The conformance suite every chip backend runs against itself.

Use it from a backend's tests (see docs/how-to-add-a-plugin.md)::

    # tests/conftest.py
    @pytest.fixture(scope="session")
    def chip_name() -> str:
        return "bm1688"

    # tests/test_conformance.py
    pytest_plugins = ["sophonc.testing.plugin"]
    from sophonc.testing.suite import *  # noqa: F403

What it checks, for every case of :data:`sophonc.testing.cases.CASES` and every
mode the chip's :class:`~sophonc.api.TargetSpec` declares (nothing else is
generated):

1. float modes: the lowered program agrees with core's reference interpreter:
   F32 to ``1e-5`` relative (of the element and of the tensor's largest value);
   F16/BF16 within the rounding of the operands propagated through the op plus
   :data:`FLOAT_OUTPUT_ROUNDOFFS` unit roundoffs of the tensor's scale, and with
   cosine >= 0.999 / 0.99;
2. INT8: calibrated with ``max`` on the same inputs, every output within the
   input and weight quantization error propagated through the op plus
   :data:`INT8_OUTPUT_STEPS` steps of the output's scale, and cosine >= 0.99 (ops
   the target runs in float in INT8 mode get that float mode's tolerance); and
   two hand-computed cases whose integer codes any symmetric chip must produce
   exactly, whatever its rounding mode;
3. the container: ``simulate(codegen(p))`` equals ``run_program(p)`` bit for bit,
   also with ``dump_all``; ``codegen`` is deterministic; the bytes start with
   the target's magic; the program's outputs keep the top-level names;
4. the TargetSpec is well formed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sophonc.api import Arrays
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import TableEntry
from sophonc.compare import cosine_similarity
from sophonc.interp import Interpreter
from sophonc.ir.module import Module
from sophonc.ir.node import Node
from sophonc.ir.value import Value
from sophonc.ops.registry import get_schema
from sophonc.testing.cases import (
    PER_CHANNEL_SCALES,
    UNIFORM_SCALES,
    F64Array,
    Feeds,
    OpCase,
    pointwise_conv_module,
    relu_module,
)

if TYPE_CHECKING:
    # Imported for types only: pytest must import the plugin itself, first, to
    # rewrite its assertions.
    from sophonc.testing.plugin import CompiledCase, ConformanceRun, Mode

__all__ = [
    "test_codegen_is_deterministic",
    "test_container_starts_with_magic",
    "test_float_program_matches_reference",
    "test_int8_pointwise_conv_codes_match_hand_computation",
    "test_int8_program_within_quantization_steps",
    "test_int8_relu_keeps_input_codes_clamped_at_zero",
    "test_program_outputs_keep_top_level_names",
    "test_simulator_dump_matches_program_dump",
    "test_simulator_matches_program_bit_for_bit",
    "test_target_container_suffix_and_magic",
    "test_target_int8_float_ops_run_in_declared_precisions",
    "test_target_mixed_fp_types_are_declared_float_precisions",
    "test_target_precisions_and_schemes_are_known",
]

KNOWN_PRECISIONS = frozenset({"F32", "F16", "BF16", "INT8", "INT4"})
FLOAT_PRECISIONS = frozenset({"F32", "F16", "BF16"})
KNOWN_SCHEMES = frozenset({"symmetric", "asymmetric"})
#: Unit roundoff (half the spacing of numbers in [1, 2)) of each float precision.
UNIT_ROUNDOFF = {"F32": 2.0**-24, "F16": 2.0**-11, "BF16": 2.0**-8}
#: F32: the chip may sum in another order; ``1e-5`` of the element plus of the
#: tensor's largest magnitude leaves room for that and nothing more.
F32_RTOL = 1e-5
#: F16/BF16: besides the operands' rounding (propagated through the op by the
#: case), the output is rounded once (one unit roundoff) and a chip may round
#: intermediates (a reduced-precision accumulator, a function table): four unit
#: roundoffs of the tensor's largest magnitude.
FLOAT_OUTPUT_ROUNDOFFS = 4.0
#: INT8: rounding the result to the output grid costs at most one step whatever
#: the rounding mode (half a step when rounding to nearest, under one when
#: truncating); re-scaling inside the op costs at most one more (the finite
#: precision of a multiplier/shift pair, each operand of an Add re-scaled and
#: rounded on its own, a table entry rounded): two steps of the output's scale,
#: on top of the operands' quantization error propagated through the op.
INT8_OUTPUT_STEPS = 2.0
#: Weights and other constants: at worst symmetric per-tensor 8-bit codes, whose
#: step is ``max|c| / 127`` (per-channel scales and 32-bit biases only do better).
CONST_LEVELS = 127.0
MIN_COSINE = {"F16": 0.999, "BF16": 0.99, "INT8": 0.99}


# ---------------------------------------------------------------------- tolerances
def _operands(node: Node, feeds: Feeds) -> list[F64Array | None]:
    operands: list[F64Array | None] = []
    for v in node.inputs:
        if v is None:
            operands.append(None)
        else:
            data = v.const if v.const is not None else feeds[v.name]
            operands.append(np.asarray(data, np.float64))
    return operands


def _float_deltas(operands: Sequence[F64Array | None], precision: str) -> list[F64Array | None]:
    """Rounding to ``precision`` moves each operand by at most a roundoff of itself."""
    u = UNIT_ROUNDOFF[precision]
    return [None if o is None else u * np.abs(o) for o in operands]


def _int8_deltas(node: Node, operands: Sequence[F64Array | None]) -> list[F64Array | None]:
    """Half a quantization step of each operand: its own scale for activations
    (zero for the ones kept in float), ``max|c|/127`` for constants."""
    deltas: list[F64Array | None] = []
    for v, o in zip(node.inputs, operands, strict=True):
        if v is None or o is None:
            deltas.append(None)
        elif v.const is not None:
            deltas.append(np.asarray(0.5 * float(np.max(np.abs(o), initial=0.0)) / CONST_LEVELS))
        elif v.quant is not None:
            deltas.append(np.asarray(0.5 * max(v.quant.scale)))
        else:
            deltas.append(np.asarray(0.0))
    return deltas


def float_tolerance(
    case: OpCase, node: Node, feeds: Feeds, want: F64Array, precision: str
) -> F64Array:
    """The largest error allowed for ``node`` run in float ``precision``."""
    scale = float(np.max(np.abs(want), initial=0.0))
    if precision == "F32":
        return F32_RTOL * (np.abs(want) + scale)
    operands = _operands(node, feeds)
    propagated = case.propagate(node, operands, _float_deltas(operands, precision))
    return propagated + FLOAT_OUTPUT_ROUNDOFFS * UNIT_ROUNDOFF[precision] * scale


def int8_tolerance(case: OpCase, node: Node, feeds: Feeds) -> F64Array:
    """The largest error allowed for ``node`` run in INT8 (see :data:`INT8_OUTPUT_STEPS`)."""
    out_quant = node.output.quant
    assert out_quant is not None, f"the quantizer gave '{node.output.name}' no quantized type"
    operands = _operands(node, feeds)
    propagated = case.propagate(node, operands, _int8_deltas(node, operands))
    return propagated + INT8_OUTPUT_STEPS * max(out_quant.scale)


# ---------------------------------------------------------------------- assertions
def _assert_within(
    got: npt.NDArray[np.generic], want: F64Array, tol: F64Array, what: str, min_cosine: float | None
) -> None:
    got64 = np.asarray(got, np.float64)
    assert got64.shape == want.shape, f"{what}: shape {got64.shape}, reference {want.shape}"
    assert np.all(np.isfinite(got64)), f"{what}: the result has NaN or inf"
    err = np.abs(got64 - want)
    bound = np.broadcast_to(tol, err.shape)
    bad = err > bound
    if bad.any():
        worst = np.unravel_index(int(np.argmax(err - bound)), err.shape)
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {err.size} elements off by more than the bound; "
            f"worst at {tuple(int(i) for i in worst)}: got {got64[worst]:.7g}, reference "
            f"{want[worst]:.7g}, error {err[worst]:.3g} > bound {bound[worst]:.3g}"
        )
    if min_cosine is not None:
        cosine = cosine_similarity(got64, want)
        assert cosine >= min_cosine, f"{what}: cosine {cosine:.6f} < {min_cosine}"


def _assert_identical(
    got: Mapping[str, npt.NDArray[np.generic]],
    want: Mapping[str, npt.NDArray[np.generic]],
    names: Sequence[str],
    what: str,
) -> None:
    for name in names:
        assert name in got, f"{what}: '{name}' is missing (has {sorted(got)})"
        a, b = np.asarray(got[name]), np.asarray(want[name])
        assert (a.dtype, a.shape) == (b.dtype, b.shape), (
            f"{what}: '{name}' is {a.dtype}{list(a.shape)}, the program's {b.dtype}{list(b.shape)}"
        )
        if a.tobytes() != b.tobytes():
            differ = int(np.sum(a.view(np.uint8) != b.view(np.uint8)))
            raise AssertionError(f"{what}: '{name}' differs from the program's in {differ} bytes")


def _only_node(compiled: CompiledCase) -> Node:
    (node,) = compiled.module.graph.nodes
    return node


# --------------------------------------------------------------- 1. float accuracy
def test_float_program_matches_reference(
    conformance: ConformanceRun, op_case: OpCase, float_mode: Mode
) -> None:
    """The lowered program of a float mode agrees with the reference interpreter."""
    compiled = conformance.compiled(op_case, float_mode)
    node = _only_node(compiled)
    name = node.output.name
    got = conformance.backend.run_program(compiled.program, compiled.feeds)
    want = np.asarray(compiled.reference[name], np.float64)
    tol = float_tolerance(op_case, node, compiled.feeds, want, float_mode.precision)
    what = f"{node.op_type} ({op_case.id}) in {float_mode}"
    _assert_within(got[name], want, tol, what, MIN_COSINE.get(float_mode.precision))


# ---------------------------------------------------------------- 2. INT8 accuracy
def test_int8_program_within_quantization_steps(
    conformance: ConformanceRun, op_case: OpCase, int8_mode: Mode
) -> None:
    """INT8 results are within the quantization error of the F32 reference."""
    compiled = conformance.compiled(op_case, int8_mode)
    node = _only_node(compiled)
    name = node.output.name
    precision = str(node.output.meta.get("precision", "INT8"))
    got = conformance.backend.run_program(compiled.program, compiled.feeds)
    want = np.asarray(compiled.reference[name], np.float64)
    if precision == "INT8":
        tol = int8_tolerance(op_case, node, compiled.feeds)
    else:
        tol = float_tolerance(op_case, node, compiled.feeds, want, precision)
    what = f"{node.op_type} ({op_case.id}) in {int8_mode} (node runs {precision})"
    _assert_within(got[name], want, tol, what, MIN_COSINE.get(precision))


#: The hand cases' grids: inputs and outputs step by 1/16, so thresholds are
#: 127/16 (signed) or 255/16 (unsigned) and every code is exact.
HAND_STEP = 1.0 / 16.0


def _hand_table(entries: Mapping[str, tuple[float, float]]) -> CalibrationTable:
    """A table of ``name -> (threshold, min)`` rows (max = threshold)."""
    return CalibrationTable({n: TableEntry(th, lo, th) for n, (th, lo) in entries.items()})


def _run_hand_case(
    conformance: ConformanceRun,
    mode: Mode,
    module_and_feeds: tuple[Module, Feeds],
    table: CalibrationTable,
) -> tuple[Value, Arrays, Arrays]:
    """Quantize with ``table``, lower, and run both the program and its container."""
    module, feeds = module_and_feeds
    conformance.quantize(module, table, mode)
    program = conformance.backend.lower(module, mode.options)
    from_program = conformance.backend.run_program(program, feeds)
    container = conformance.backend.codegen(program, mode.options)
    from_container = conformance.backend.simulate(container, feeds)
    return module.graph.outputs[0], from_program, from_container


def test_int8_relu_keeps_input_codes_clamped_at_zero(
    conformance: ConformanceRun, symmetric_int8: Mode
) -> None:
    """Relu of codes on a 1/16 grid, output on the same grid: codes max(q, 0) exactly."""
    codes = np.array([[-127, -100, -64, -33, -2, -1, 0], [1, 2, 31, 64, 99, 126, 127]])
    out_levels = 255 if conformance.target.unsigned_activations else 127
    table = _hand_table(
        {"x": (127 * HAND_STEP, -127 * HAND_STEP), "y_Relu": (out_levels * HAND_STEP, 0.0)}
    )
    out, from_program, from_container = _run_hand_case(
        conformance, symmetric_int8, relu_module(codes, HAND_STEP), table
    )
    assert out.quant is not None and out.quant.scale == (HAND_STEP,), (
        f"premise: the quantizer should give y_Relu scale 1/16, gave {out.quant}"
    )
    expected = np.maximum(codes, 0) * HAND_STEP
    for source, results in (("program", from_program), ("container", from_container)):
        got = np.asarray(results["y_Relu"], np.float64)
        assert np.array_equal(got, expected), (
            f"Relu in {symmetric_int8} ({source}): codes {(got / HAND_STEP).tolist()}, "
            f"expected {np.maximum(codes, 0).tolist()}"
        )


#: Pointwise conv by hand. Input codes (scale 1/16), channel 0 then 1:
HAND_X = [[[[8, -8], [0, 8]], [[16, -32], [24, 0]]]]
#: Weight codes per output channel; each channel's largest code is 127, so the
#: symmetric scale max|W[c]|/127 is exactly the chosen power of two.
HAND_W = [[[[127]], [[-24]]], [[[127]], [[-25]]]]
#: Bias codes, in units of w_scale[c] · x_scale.
HAND_B = [-40, -24]
#: Output scale 1/16, so the requant factor is w_scale · x_scale / y_scale = w_scale.
#: Channel 0 (w_scale 1/8): acc = 127·x0 - 24·x1 - 40
#:   = 1016-384-40 = 592, -1016+768-40 = -288, 0-576-40 = -616, 1016-0-40 = 976;
#:   codes acc/8 = 74, -36, -77, 122.
#: Channel 1: acc = 127·x0 - 25·x1 - 24
#:   = 1016-400-24 = 592, -1016+800-24 = -240, 0-600-24 = -624, 1016-0-24 = 992;
#:   w_scale 1/8: codes acc/8 = 74, -30, -78, 124; w_scale 1/16: acc/16 = 37, -15, -39, 62.
#: Every quotient is an integer within ±127: no rounding, no saturation.
HAND_Y = {
    UNIFORM_SCALES: ((1 / 8, 1 / 8), [[[74, -36], [-77, 122]], [[74, -30], [-78, 124]]]),
    PER_CHANNEL_SCALES: ((1 / 8, 1 / 16), [[[74, -36], [-77, 122]], [[37, -15], [-39, 62]]]),
}


def test_int8_pointwise_conv_codes_match_hand_computation(
    conformance: ConformanceRun, symmetric_int8: Mode, weight_scales: str
) -> None:
    """A 1×1 conv with power-of-two scales where every rounding mode agrees."""
    w_scales, y_codes = HAND_Y[weight_scales]
    module, feeds = pointwise_conv_module(HAND_X, HAND_STEP, HAND_W, w_scales, HAND_B)
    expected = np.asarray([y_codes], np.float64) * HAND_STEP
    reference = np.asarray(Interpreter(module).run(feeds)["y_Conv"], np.float64)
    assert np.array_equal(reference, expected), "premise: the hand arithmetic is wrong"
    th = 127 * HAND_STEP
    table = _hand_table({"x": (th, -th), "y_Conv": (th, -th)})
    out, from_program, from_container = _run_hand_case(
        conformance, symmetric_int8, (module, feeds), table
    )
    assert out.quant is not None and out.quant.scale == (HAND_STEP,), (
        f"premise: the quantizer should give y_Conv scale 1/16, gave {out.quant}"
    )
    for source, results in (("program", from_program), ("container", from_container)):
        got = np.asarray(results["y_Conv"], np.float64)
        assert np.array_equal(got, expected), (
            f"1x1 Conv ({weight_scales}) in {symmetric_int8} ({source}): codes "
            f"{(got / HAND_STEP).astype(int).tolist()}, expected {[y_codes]}"
        )


# ------------------------------------------------------------------- 3. container
def test_simulator_matches_program_bit_for_bit(
    conformance: ConformanceRun, op_case: OpCase, any_mode: Mode
) -> None:
    """The container, simulated, gives exactly the lowered program's outputs."""
    compiled = conformance.compiled(op_case, any_mode)
    backend = conformance.backend
    want = backend.run_program(compiled.program, compiled.feeds)
    got = backend.simulate(compiled.container, compiled.feeds)
    _assert_identical(got, want, sorted(want), f"{op_case.id} in {any_mode}, simulated")


def test_simulator_dump_matches_program_dump(
    conformance: ConformanceRun, op_case: OpCase, any_mode: Mode
) -> None:
    """With ``dump_all`` every tensor the simulator reports is the program's, bit for bit."""
    compiled = conformance.compiled(op_case, any_mode)
    backend = conformance.backend
    want = backend.run_program(compiled.program, compiled.feeds, dump_all=True)
    got = backend.simulate(compiled.container, compiled.feeds, dump_all=True)
    what = f"{op_case.id} in {any_mode}, simulated with dump_all"
    invented = sorted(set(got) - set(want))
    assert not invented, f"{what}: tensors the program does not have: {invented}"
    outputs = [v.name for v in compiled.program.graph.outputs]
    _assert_identical(got, want, [*outputs, *sorted(set(got) - set(outputs))], what)


def test_codegen_is_deterministic(
    conformance: ConformanceRun, op_case: OpCase, any_mode: Mode
) -> None:
    """The same program, and the same case compiled again, give the same bytes."""
    compiled = conformance.compiled(op_case, any_mode)
    backend = conformance.backend
    again = backend.codegen(compiled.program, any_mode.options)
    assert again == compiled.container, f"{op_case.id} in {any_mode}: codegen twice differs"
    fresh = conformance.compile(op_case, any_mode)
    rebuilt = backend.codegen(fresh.program, any_mode.options)
    assert rebuilt == compiled.container, (
        f"{op_case.id} in {any_mode}: compiling the same module again gives other bytes"
    )


def test_container_starts_with_magic(
    conformance: ConformanceRun, op_case: OpCase, any_mode: Mode
) -> None:
    """The container begins with the target's declared magic."""
    compiled = conformance.compiled(op_case, any_mode)
    magic = conformance.target.container_magic
    head = compiled.container[: len(magic)]
    assert head == magic, f"{op_case.id} in {any_mode}: container starts {head!r}, not {magic!r}"


def test_program_outputs_keep_top_level_names(
    conformance: ConformanceRun, op_case: OpCase, any_mode: Mode
) -> None:
    """Program outputs, and the results of running it, carry the top-level names."""
    compiled = conformance.compiled(op_case, any_mode)
    top = [v.name for v in compiled.module.graph.outputs]
    program = [v.name for v in compiled.program.graph.outputs]
    assert program == top, f"{op_case.id} in {any_mode}: program outputs {program}, top {top}"
    results = conformance.backend.run_program(compiled.program, compiled.feeds)
    simulated = conformance.backend.simulate(compiled.container, compiled.feeds)
    for source, keys in (("run_program", results), ("simulate", simulated)):
        missing = [n for n in top if n not in keys]
        assert not missing, f"{op_case.id} in {any_mode}: {source} lacks {missing}"


# ------------------------------------------------------------------ 4. TargetSpec
def test_target_precisions_and_schemes_are_known(conformance: ConformanceRun) -> None:
    """Precisions and schemes are names the rest of sophonc understands."""
    target = conformance.target
    assert target.chip == conformance.backend.name, (
        f"target.chip '{target.chip}' differs from the backend name '{conformance.backend.name}'"
    )
    assert target.precisions, "the target declares no precision"
    assert target.precisions <= KNOWN_PRECISIONS, (
        f"unknown precisions {sorted(target.precisions - KNOWN_PRECISIONS)}"
    )
    assert target.quant_schemes <= KNOWN_SCHEMES, (
        f"unknown quantization schemes {sorted(target.quant_schemes - KNOWN_SCHEMES)}"
    )
    if "INT8" in target.precisions:
        assert target.quant_schemes, "INT8 is declared without a quantization scheme"


def test_target_mixed_fp_types_are_declared_float_precisions(conformance: ConformanceRun) -> None:
    """Mixed precision may only fall back to float modes the chip runs."""
    mixed = set(conformance.target.mixed_fp_types)
    assert mixed <= conformance.target.precisions, (
        f"mixed_fp_types {sorted(mixed - conformance.target.precisions)} are not declared"
    )
    assert mixed <= FLOAT_PRECISIONS, (
        f"mixed_fp_types {sorted(mixed - FLOAT_PRECISIONS)} are not float"
    )


def test_target_int8_float_ops_run_in_declared_precisions(conformance: ConformanceRun) -> None:
    """Ops kept in float in INT8 mode are core ops, kept in a declared float mode."""
    target = conformance.target
    for op, precision in target.int8_float_ops.items():
        get_schema(op)
        assert precision in target.precisions, f"int8_float_ops: {op} runs {precision}, undeclared"
        assert precision in FLOAT_PRECISIONS, f"int8_float_ops: {op} runs {precision}, not a float"


def test_target_container_suffix_and_magic(conformance: ConformanceRun) -> None:
    """The container suffix is a file suffix and the magic identifies the file."""
    target = conformance.target
    suffix = target.container_suffix
    assert suffix.startswith(".") and len(suffix) > 1, f"container_suffix {suffix!r}"
    assert target.container_magic, "container_magic is empty: files cannot be recognised"
