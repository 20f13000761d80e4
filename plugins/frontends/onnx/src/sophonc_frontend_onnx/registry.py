"""The converter registry: (domain, op_type, since_version) -> converter function.

A converter turns one ONNX node into core ops through a :class:`ConversionContext`.
Converters are registered for the ``since_version`` at which an op's form changed;
the model's opset is mapped onto the op's own ``since_version`` through the ONNX
schema table, and the newest registered converter not newer than that is used. So a
converter written for ``Clip`` since 11 also serves opsets 12 and 13, whose form is
the same, and a model at opset 9 gets the since-6 attribute form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

from sophonc.errors import UnsupportedOpError
from sophonc.ir.value import Value

if TYPE_CHECKING:
    from sophonc_frontend_onnx.context import ConversionContext
    from sophonc_frontend_onnx.onnx_node import OnnxNode

log = logging.getLogger(__name__)

#: ``converter(ctx, node) -> one Value per ONNX output`` (None for an omitted output).
ConverterFn: TypeAlias = Callable[["ConversionContext", "OnnxNode"], Sequence[Value | None]]

_CONVERTERS: dict[tuple[str, str], dict[int, ConverterFn]] = {}


def _norm_domain(domain: str) -> str:
    return "" if domain in ("", "ai.onnx") else domain


def register_converter(op_type: str, since: int, fn: ConverterFn, domain: str = "") -> None:
    """Add ``fn`` as the converter of ``op_type`` from version ``since`` on.

    This is what the ``sophon_register_converters`` hook hands to plugins. A later
    registration for the same key replaces the earlier one (logged), so a plugin can
    override a built-in converter on purpose.
    """
    table = _CONVERTERS.setdefault((_norm_domain(domain), op_type), {})
    if since in table and table[since] is not fn:
        log.info("converter for %s since %d replaced by %s", op_type, since, fn.__name__)
    table[since] = fn


def converter(op_type: str, since: int, domain: str = "") -> Callable[[ConverterFn], ConverterFn]:
    """Decorator form of :func:`register_converter`; stack it for several ops."""

    def deco(fn: ConverterFn) -> ConverterFn:
        register_converter(op_type, since, fn, domain)
        return fn

    return deco


def schema_since_version(op_type: str, opset: int, domain: str = "") -> int | None:
    """The ``since_version`` of the ONNX schema in force at ``opset``, None if unknown."""
    from onnx import defs

    try:
        schema = defs.get_schema(op_type, max_inclusive_version=opset, domain=domain)
    except Exception:  # onnx raises SchemaError for unknown ops and custom domains
        return None
    return int(schema.since_version)


def get_converter(op_type: str, opset: int, node_name: str, domain: str = "") -> ConverterFn:
    """The converter for ``op_type`` at the model's ``opset``.

    Raises :class:`UnsupportedOpError` naming the op, the node and the opset when no
    registered converter covers that version.
    """
    _load_builtin_converters()
    dom = _norm_domain(domain)
    table = _CONVERTERS.get((dom, op_type))
    if table:
        since = schema_since_version(op_type, opset, dom)
        # Ops outside the ONNX schema table (custom domains) use the domain opset.
        version = since if since is not None else opset
        usable = [v for v in table if v <= version]
        if usable:
            return table[max(usable)]
    shown = op_type if not dom else f"{dom}.{op_type}"
    raise UnsupportedOpError(shown, node_name, opset, "ONNX")


def registered_ops() -> list[tuple[str, str, int]]:
    """Every (domain, op_type, since) with a converter, sorted (for docs and tests)."""
    _load_builtin_converters()
    return sorted((d, op, v) for (d, op), t in _CONVERTERS.items() for v in t)


_loaded = False


def _load_builtin_converters() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import sophonc_frontend_onnx.converters  # noqa: F401  (registers the built-ins)
    from sophonc.plugins.manager import hooks

    hooks().sophon_register_converters(frontend="onnx", register=register_converter)
