"""Drivers chosen by the name a user types: frontends, quantizers, chip backends.

Every lookup goes through a stevedore ``DriverManager`` with errors re-raised
(stevedore logs and skips them by default) and duplicate names refused. A name
nobody installed becomes :class:`UnknownPluginError` listing what *is*
installed; a plugin that fails to import, is not a subclass of the right base,
or targets another API version becomes :class:`PluginLoadError` naming it. Tests
and notebooks may pass a class instead of a name (xarray's convention), which
skips discovery but not the checks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from stevedore import DriverManager
from stevedore.exception import MultipleMatches, NoMatches

from sophonc.api import API_VERSION, Backend, Frontend, Quantizer
from sophonc.errors import ModelLoadError, PluginLoadError, UnknownPluginError
from sophonc.plugins.groups import BACKENDS, FRONTENDS, QUANTIZERS, installed, installed_names

log = logging.getLogger(__name__)

_KIND = {FRONTENDS: "frontend", QUANTIZERS: "quantizer", BACKENDS: "chip"}
_PACKAGE = {
    FRONTENDS: "sophonc-frontend-{}",
    QUANTIZERS: "sophonc-quant-{}",
    BACKENDS: "sophonc-backend-{}",
}


def _check_class(group: str, name: str, cls: object, base: type) -> type:
    kind = _KIND[group]
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise PluginLoadError(
            f"{kind} plugin '{name}' does not name a subclass of sophonc.api.{base.__name__} "
            f"(it names {cls!r}); fix its '{group}' entry point"
        )
    version = getattr(cls, "api_version", None)
    if version != API_VERSION:
        raise PluginLoadError(
            f"{kind} plugin '{name}' targets sophonc API version {version}, but this core "
            f"provides version {API_VERSION}; upgrade the plugin or sophonc so they match"
        )
    return cls


def _reraise(manager: Any, entrypoint: Any, exc: BaseException) -> None:
    raise exc


def _load_class(group: str, name: str, base: type) -> type:
    kind = _KIND[group]
    try:
        manager: DriverManager[Any] = DriverManager(
            namespace=group,
            name=name,
            invoke_on_load=False,
            on_load_failure_callback=_reraise,
            on_missing_entrypoints_callback=lambda names: None,
        )
    except NoMatches:
        names = installed_names(group)
        shown = ", ".join(names) if names else "none"
        raise UnknownPluginError(
            f"unknown {kind} '{name}'; installed: {shown}. Install "
            f"{_PACKAGE[group].format(name)} or pick one of those"
        ) from None
    except MultipleMatches:
        dists = [p.distribution for p in installed(group) if p.name == name]
        raise PluginLoadError(
            f"{kind} '{name}' is declared by more than one installed distribution "
            f"({', '.join(dists) or 'several'}); uninstall all but one"
        ) from None
    except PluginLoadError:
        raise
    except Exception as exc:
        raise PluginLoadError(
            f"{kind} plugin '{name}' failed to load: {type(exc).__name__}: {exc}; "
            f"reinstall it or check that its dependencies are installed"
        ) from exc
    return _check_class(group, name, manager.driver, base)


def _load(group: str, name_or_cls: str | type, base: type) -> Any:
    if isinstance(name_or_cls, type):
        cls = _check_class(group, getattr(name_or_cls, "name", name_or_cls.__name__),
                           name_or_cls, base)
    else:
        cls = _load_class(group, name_or_cls, base)
    try:
        return cls()
    except Exception as exc:
        raise PluginLoadError(
            f"{_KIND[group]} plugin '{name_or_cls}' failed to start: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def load_frontend(name_or_cls: str | type[Frontend]) -> Frontend:
    """The frontend registered as ``name`` (e.g. ``onnx``), or an instance of a class."""
    return cast("Frontend", _load(FRONTENDS, name_or_cls, Frontend))


def load_quantizer(name_or_cls: str | type[Quantizer]) -> Quantizer:
    """The quantizer registered as ``name`` (e.g. ``symmetric``)."""
    return cast("Quantizer", _load(QUANTIZERS, name_or_cls, Quantizer))


def load_backend(name_or_cls: str | type[Backend]) -> Backend:
    """The backend of chip ``name`` (e.g. ``bm1684x``); chip names are case-insensitive."""
    if isinstance(name_or_cls, str):
        name_or_cls = name_or_cls.strip().lower()
    return cast("Backend", _load(BACKENDS, name_or_cls, Backend))


def _detected_frontend(path: Path) -> str | None:
    from sophonc.plugins.manager import hooks

    answer = hooks().sophon_detect_frontend(path=path)
    return str(answer) if answer else None


def frontend_for_path(
    path: Path, *, detect: Callable[[Path], str | None] = _detected_frontend
) -> Frontend:
    """The frontend that reads ``path``: a detect hook's answer, else by suffix.

    Matching by suffix imports each installed frontend's entry-point module to
    read its ``suffixes`` (cheap: frameworks are imported only inside ``load``).
    """
    path = Path(path)
    name = detect(path)
    if name is not None:
        return load_frontend(name)
    suffix = path.suffix.lower()
    claimed: list[str] = []
    for plugin in installed(FRONTENDS):
        frontend = load_frontend(plugin.name)
        suffixes = tuple(s.lower() for s in frontend.suffixes)
        claimed.append(f"{plugin.name} ({', '.join(suffixes) or 'no suffix'})")
        if suffix in suffixes:
            return frontend
    shown = "; ".join(claimed) if claimed else "none installed"
    raise ModelLoadError(
        f"no installed frontend reads '{path.name}' (suffix '{suffix or 'none'}'); "
        f"installed frontends: {shown}. Install the frontend for that format "
        f"(e.g. sophonc-frontend-onnx)"
    )
