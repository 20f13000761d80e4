"""The pluggy hook manager: built once per process, rebuilt fresh in tests.

Loading follows pytest's and llm's conventions: every module in the
``sophon.hooks`` entry-point group is registered under its entry-point name
unless ``SOPHON_DISABLE_PLUGIN_AUTOLOAD`` is set; ``SOPHON_PLUGINS=a,b`` loads
only those; ``SOPHON_DISABLE_PLUGINS=a,b`` blocks names before loading;
``SOPHON_TRACE_PLUGINS=1`` logs every hook call. A hook module that fails to
import, or implements a hook that does not exist, is a :class:`PluginLoadError`
naming it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any

import pluggy

from sophonc.errors import PluginLoadError
from sophonc.plugins import hookspecs
from sophonc.plugins.groups import HOOKS

log = logging.getLogger(__name__)

_MANAGER: pluggy.PluginManager | None = None


def _names(env: str) -> set[str]:
    return {s.strip() for s in os.environ.get(env, "").split(",") if s.strip()}


def make_plugin_manager(
    *, autoload: bool | None = None, blocked: Iterable[str] = ()
) -> pluggy.PluginManager:
    """A new hook manager with the specs added and the installed hook modules loaded."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in {*blocked, *_names("SOPHON_DISABLE_PLUGINS")}:
        pm.set_blocked(name)
    if autoload is None:
        autoload = not os.environ.get("SOPHON_DISABLE_PLUGIN_AUTOLOAD")
    if autoload:
        only = _names("SOPHON_PLUGINS")
        for ep in entry_points(group=HOOKS):
            if (only and ep.name not in only) or pm.is_blocked(ep.name):
                continue
            if pm.get_plugin(ep.name) is not None:
                continue
            try:
                module = ep.load()
            except Exception as exc:
                raise PluginLoadError(
                    f"hook plugin '{ep.name}' ({ep.value}) failed to import: "
                    f"{type(exc).__name__}: {exc}; fix or uninstall it, or set "
                    f"SOPHON_DISABLE_PLUGINS={ep.name}"
                ) from exc
            pm.register(module, ep.name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginLoadError(
            f"a hook plugin implements a hook that does not exist: {exc}; "
            f"check the sophon_* function names against sophonc.plugins.hookspecs"
        ) from exc
    if os.environ.get("SOPHON_TRACE_PLUGINS"):
        pm.add_hookcall_monitoring(_trace_before, _trace_after)
    return pm


def _trace_before(hook_name: str, impls: Any, kwargs: Any) -> None:
    log.warning("hook %s -> %s", hook_name, [i.plugin_name for i in impls])


def _trace_after(outcome: Any, hook_name: str, impls: Any, kwargs: Any) -> None:
    log.warning("hook %s done", hook_name)


def plugin_manager() -> pluggy.PluginManager:
    """The process-wide hook manager (built on first use)."""
    global _MANAGER
    if _MANAGER is None:
        _MANAGER = make_plugin_manager()
    return _MANAGER


def set_plugin_manager(pm: pluggy.PluginManager | None) -> None:
    """Install ``pm`` as the process-wide manager (None: rebuild on next use).

    Tests use it to run with a manager holding only the plugins they register.
    """
    global _MANAGER
    _MANAGER = pm


def hooks() -> Any:
    """The hook relay of the process-wide manager (``hooks().sophon_…(...)``)."""
    return plugin_manager().hook


def register_hooks(plugin: object, name: str | None = None) -> None:
    """Register an object or module of ``sophon_*`` hook implementations now."""
    plugin_manager().register(plugin, name)
    plugin_manager().check_pending()


def unregister_hooks(plugin: object) -> None:
    """Undo :func:`register_hooks`."""
    plugin_manager().unregister(plugin)
