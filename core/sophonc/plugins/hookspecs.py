"""The hooks any installed plugin may implement (the ``sophon.hooks`` group).

Hooks are for things every plugin may contribute to or observe; choosing *one*
implementation by name (a frontend, a quantizer, a chip) goes through the driver
registry instead. Each spec is public API: its docstring says when it is called,
what it receives and what it may return. Implementations use
:data:`sophonc.plugins.hookspecs.hookimpl` (re-exported as ``sophonc.hookimpl``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pluggy

PROJECT = "sophon"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def sophon_register_ops(register: Callable[..., Any]) -> None:
    """Add core ops (a shape rule and a numpy kernel each).

    Called once, the first time any op schema is looked up. ``register`` is
    :func:`sophonc.ops.registry.register_op`: ``register(name, infer)(kernel)``.
    """


@hookspec
def sophon_register_converters(frontend: str, register: Callable[..., Any]) -> None:
    """Add or override converters of the frontend named ``frontend``.

    Called once per frontend, when it first looks a converter up. ``register`` is
    that frontend's registration function; for ``onnx`` it is
    ``register(op_type, since_version, fn, domain="")``. Ignore other frontends.
    """


@hookspec(firstresult=True)
def sophon_detect_frontend(path: Path) -> str | None:
    """The name of the frontend that reads ``path``, or None to pass.

    The first non-None answer wins; when every plugin passes, the file suffix is
    matched against the ``suffixes`` the installed frontends declare.
    """


@hookspec
def sophon_configure_pipeline(name: str, passes: list[Any]) -> None:
    """Edit the pass list of pipeline ``name`` (e.g. ``canonicalize``) in place.

    ``passes`` holds pass instances in run order; insert, remove or replace
    entries. Called each time that pipeline is built.
    """


@hookspec
def sophon_before_pass_run(pass_name: str, module: Any) -> None:
    """Observe ``module`` just before pass ``pass_name`` runs on it."""


@hookspec
def sophon_after_pass_run(pass_name: str, module: Any, modified: bool) -> None:
    """Observe ``module`` just after pass ``pass_name`` ran (``modified`` as reported)."""


@hookspec
def sophon_compile_finished(report: dict[str, Any]) -> None:
    """Observe the summary of a finished ``sophon compile``/``deploy`` run."""
