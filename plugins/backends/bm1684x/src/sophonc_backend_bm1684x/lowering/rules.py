"""The INT8 lowering rules, by top-level op type.

A rule builds the program nodes of one top node in INT8 and returns True, or
returns False (having emitted nothing) when this node cannot run in INT8 — a
weight where an activation is needed, a value without calibration — so the
driver lowers it in float instead.
"""

from __future__ import annotations

from collections.abc import Callable

from sophonc.ir.node import Node
from sophonc_backend_bm1684x.lowering.context import LoweringContext

Int8Rule = Callable[[LoweringContext, Node], bool]

_RULES: dict[str, Int8Rule] = {}


def int8_rule(*op_types: str) -> Callable[[Int8Rule], Int8Rule]:
    """Register ``rule`` as the INT8 lowering of ``op_types``."""

    def deco(rule: Int8Rule) -> Int8Rule:
        for op in op_types:
            _RULES[op] = rule
        return rule

    return deco


def find_int8_rule(op_type: str) -> Int8Rule | None:
    """The INT8 rule of ``op_type``, None when the op only runs in float."""
    _load()
    return _RULES.get(op_type)


def int8_ops() -> list[str]:
    """Every top op type with an INT8 lowering."""
    _load()
    return sorted(_RULES)


_loaded = False


def _load() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        import sophonc_backend_bm1684x.lowering.int8  # noqa: F401  (registers the rules)
