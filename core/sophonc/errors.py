"""The error hierarchy every user-facing failure goes through.

The command line catches :class:`SophonError` and prints its message as one line,
so each message must name the cause and what to do about it.
"""

from __future__ import annotations


class SophonError(Exception):
    """Root of every error a user can cause; printed as one line by the CLI."""


class ModelLoadError(SophonError):
    """A model file is missing, unreadable, truncated or of the wrong format."""


class UnsupportedOpError(SophonError):
    """A frontend met an operator it has no converter for."""

    def __init__(self, op_type: str, node: str, version: int | None, frontend: str) -> None:
        at = f" (opset {version})" if version is not None else ""
        super().__init__(
            f"unsupported {frontend} op '{op_type}'{at} at node '{node}': "
            f"no converter is installed for it; replace the op or register a converter "
            f"through the sophon_register_converters hook"
        )
        self.op_type = op_type
        self.node = node
        self.version = version


class ShapeError(SophonError):
    """A shape given by the user or found in a model does not fit."""


class IRError(SophonError):
    """The IR is malformed (bad text form, dangling value, unknown op)."""


class PassError(SophonError):
    """A pass failed; the message names it and the passes that ran before."""


class PluginLoadError(SophonError):
    """A plugin is unknown, failed to import, or targets another API version."""


class UnknownPluginError(PluginLoadError):
    """No installed plugin has the requested name."""
