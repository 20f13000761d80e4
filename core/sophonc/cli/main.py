"""The ``sophon`` command: built-in stages plus commands plugins contribute.

Subcommands are loaded lazily: ``sophon plugins`` or ``sophon compare`` import
neither another command's module nor any plugin. Plugin commands come from the
``sophon.commands`` entry-point group; a built-in name cannot be shadowed.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import cast

import click

from sophonc import __version__
from sophonc.cli.errors import run_command
from sophonc.errors import PluginLoadError
from sophonc.plugins.groups import COMMANDS

#: Built-in subcommands: name -> "module:attribute".
BUILTIN_COMMANDS: dict[str, str] = {
    "calibrate": "sophonc.cli.calibrate:calibrate",
    "compare": "sophonc.cli.compare:compare",
    "compile": "sophonc.cli.compile:compile_command",
    "deploy": "sophonc.cli.deploy:deploy_command",
    "evaluate": "sophonc.cli.evaluate:evaluate_command",
    "plugins": "sophonc.cli.plugins:plugins",
    "run": "sophonc.cli.run:run",
    "transform": "sophonc.cli.transform:transform",
}


def _load_builtin(name: str) -> click.Command:
    module_name, attr = BUILTIN_COMMANDS[name].split(":")
    return cast("click.Command", getattr(importlib.import_module(module_name), attr))


class PluginGroup(click.Group):
    """A click group whose commands are imported only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(BUILTIN_COMMANDS)
        names.update(ep.name for ep in entry_points(group=COMMANDS))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in BUILTIN_COMMANDS:
            return _load_builtin(cmd_name)
        for ep in entry_points(group=COMMANDS, name=cmd_name):
            try:
                command = ep.load()
            except Exception as exc:
                raise PluginLoadError(
                    f"command '{cmd_name}' ({ep.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}; reinstall the plugin that provides it"
                ) from exc
            if not isinstance(command, click.Command):
                raise PluginLoadError(
                    f"command '{cmd_name}' ({ep.value}) is not a click command; "
                    f"fix its sophon.commands entry point"
                )
            return command
        return None


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sophon")
def cli() -> None:
    """sophonc: compile neural networks for Sophgo's Sophon TPUs.

    The stages take TPU-MLIR's flags and write its file formats; every error is
    one line (add --debug to a command for the traceback).
    """


def main() -> None:
    """Console script ``sophon``."""
    run_command(cli, None, "sophon")
