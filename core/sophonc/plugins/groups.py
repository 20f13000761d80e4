"""Entry-point groups and what is installed in them, read from metadata only.

Listing never imports a plugin: ``sophon plugins`` must stay fast and must work
even when a plugin is broken, so it reads ``importlib.metadata`` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

FRONTENDS = "sophon.frontends"
QUANTIZERS = "sophon.quantizers"
BACKENDS = "sophon.backends"
HOOKS = "sophon.hooks"
COMMANDS = "sophon.commands"

#: Every group, with the word ``sophon plugins`` prints for it.
GROUPS: dict[str, str] = {
    FRONTENDS: "frontends",
    QUANTIZERS: "quantizers",
    BACKENDS: "backends",
    HOOKS: "hooks",
    COMMANDS: "commands",
}


@dataclass(frozen=True)
class InstalledPlugin:
    """One entry point: its name, target and the distribution that declares it."""

    group: str
    name: str
    target: str
    distribution: str
    version: str


def _describe(group: str, ep: EntryPoint) -> InstalledPlugin:
    dist = ep.dist
    return InstalledPlugin(
        group=group,
        name=ep.name,
        target=ep.value,
        distribution=dist.name if dist is not None else "?",
        version=dist.version if dist is not None else "?",
    )


def installed(group: str) -> list[InstalledPlugin]:
    """The entry points of ``group``, sorted by name (nothing is imported)."""
    found = {ep.name: _describe(group, ep) for ep in entry_points(group=group)}
    return [found[k] for k in sorted(found)]


def installed_names(group: str) -> list[str]:
    """Just the names of :func:`installed`."""
    return [p.name for p in installed(group)]
