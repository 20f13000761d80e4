"""The state of one lowering: the program being built and each top value's forms.

Every top-level value is *realized* in the program once, in the form its
producer computes it (its natural form: int8/uint8 with a quantized type, or a
float type). A consumer that needs it in another form asks for it, and the
context inserts the conversion (Cast or Requant) once and reuses it. Program
values that stand for a top value keep its name, so program and top dumps
compare name by name; conversions get the name plus a suffix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from sophonc.errors import IRError
from sophonc.ir.graph import Graph
from sophonc.ir.node import Node
from sophonc.ir.types import QuantType, TensorType
from sophonc.ir.value import Value
from sophonc.quant import scale_and_shift, scale_and_shift_positive
from sophonc_backend_bm1684x.program.storage import quantize, round_float

#: Program dtype of each float precision.
PRECISION_DTYPE = {"F32": "f32", "F16": "f16", "BF16": "bf16"}


def quant_key(q: QuantType) -> str:
    """A short, exact description of a per-tensor quantized form (for reuse)."""
    return f"{q.storage}:{q.scale[0]!r}:{q.zero_point[0]}"


def same_quant(a: QuantType | None, b: QuantType | None) -> bool:
    """Whether two per-tensor quantized forms store identical codes."""
    if a is None or b is None:
        return a is b
    return quant_key(a) == quant_key(b)


class LoweringContext:
    """Builds the program graph for one top-level module."""

    def __init__(self, top_graph: Graph) -> None:
        self.top = top_graph
        self.graph = Graph(top_graph.name)
        self._natural: dict[int, Value] = {}
        self._forms: dict[tuple[int, str], Value] = {}
        self._taken: set[str] = set()
        #: Ids of top nodes whose result is folded into a later node's (not lowered).
        self.absorbed: set[int] = set()

    # --------------------------------------------------------------- naming
    def unique(self, base: str) -> str:
        """``base``, or ``base_1``, ``base_2``… if taken."""
        name, i = base, 1
        while name in self._taken:
            name = f"{base}_{i}"
            i += 1
        self._taken.add(name)
        return name

    # -------------------------------------------------------------- building
    def add_input(self, top_value: Value) -> Value:
        """A program graph input standing for a top input (fed as it is, in f32)."""
        v = Value(self.unique(top_value.name), top_value.type)
        v.meta.update(top_value.meta)
        self.graph.inputs.append(v)
        self._natural[id(top_value)] = v
        return v

    def weight(self, base: str, data: npt.ArrayLike, quant: QuantType | None = None) -> Value:
        """A constant of the program (weights, tables, per-channel parameters)."""
        w = Value.weight(self.unique(base), np.ascontiguousarray(data))
        w.quant = quant
        return w

    def emit(
        self,
        op_type: str,
        inputs: Sequence[Value | None],
        attrs: Mapping[str, object],
        outputs: Sequence[tuple[str, TensorType, QuantType | None]],
    ) -> list[Value]:
        """Append a program node; ``outputs`` are (base name, type, quant)."""
        values = []
        for base, t, q in outputs:
            v = Value(self.unique(base), t)
            v.quant = q
            values.append(v)
        node = Node(op_type, inputs, values, attrs)
        self.graph.append(node)
        return values

    def bind(self, top_value: Value, program_value: Value) -> None:
        """Record ``program_value`` as the natural form of ``top_value``."""
        self._natural[id(top_value)] = program_value

    def natural(self, top_value: Value) -> Value:
        """The program value a top value was realized as (weights on demand, in f32)."""
        found = self._natural.get(id(top_value))
        if found is not None:
            return found
        if top_value.const is not None:
            data = np.asarray(top_value.const)
            w = self.weight(top_value.name, data)
            self._natural[id(top_value)] = w
            return w
        raise IRError(f"top value '{top_value.name}' is used before it is lowered")

    # ------------------------------------------------------------ realizing
    def as_float(self, top_value: Value, dtype: str) -> Value:
        """``top_value`` stored as float ``dtype`` (f32/f16/bf16)."""
        key = (id(top_value), dtype)
        if key in self._forms:
            return self._forms[key]
        nat = self.natural(top_value)
        if nat.quant is None and nat.dtype == dtype:
            return nat
        if nat.quant is None and not _is_float(nat.dtype):
            return nat  # indices, shapes: not a float tensor
        if top_value.const is not None and nat.quant is None:
            result = self.weight(f"{top_value.name}_{dtype}", round_float(top_value.const, dtype))
        else:
            (result,) = self.emit(
                "Cast", [nat], {}, [(f"{top_value.name}_{dtype}", nat.type.with_dtype(dtype), None)]
            )
        self._forms[key] = result
        return result

    def as_quant(self, top_value: Value, quant: QuantType) -> Value:
        """``top_value`` stored with quantized type ``quant`` (quantize or requantize)."""
        key = (id(top_value), quant_key(quant))
        if key in self._forms:
            return self._forms[key]
        nat = self.natural(top_value)
        if same_quant(nat.quant, quant):
            return nat
        name = f"{top_value.name}_{quant.storage}"
        qtype = nat.type.with_dtype(quant.storage)
        if top_value.const is not None and nat.quant is None:
            result = self.weight(name, quantize(top_value.const, quant), quant)
        elif nat.quant is None:
            (result,) = self.emit("Cast", [nat], {}, [(name, qtype, quant)])
        else:
            m, s = requant_parameters(nat.quant.scale[0] / quant.scale[0])
            (result,) = self.emit(
                "Requant", [nat], {"multiplier": int(m), "shift": int(s)}, [(name, qtype, quant)]
            )
        self._forms[key] = result
        return result

    def as_int8(self, top_value: Value) -> Value | None:
        """``top_value`` in a quantized form: its natural one if quantized, else
        quantized with its calibrated type; None when it has none (not calibrated)."""
        nat = self.natural(top_value)
        if nat.quant is not None:
            return nat
        if top_value.quant is None:
            return None
        return self.as_quant(top_value, top_value.quant)


def requant_parameters(ratio: float) -> tuple[int, int]:
    """Multiplier and shift of an int8 → int8 re-scale by ``ratio``.

    TPU-MLIR's RequantInt uses an 8-bit positive multiplier; a ratio too large
    for one (≥ about 126.5, a tensor re-quantized onto a much finer scale, which
    then saturates anyway) gets a 32-bit multiplier instead.
    """
    try:
        return scale_and_shift_positive(ratio, 8)
    except ValueError:
        return scale_and_shift(ratio, 32)


def _is_float(dtype: str) -> bool:
    return dtype in ("f32", "f16", "bf16", "f64")
