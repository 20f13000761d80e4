"""TPU-MLIR's command names, installed beside ``sophon`` so its guides work as written.

``model_transform`` / ``model_transform.py`` → ``sophon transform``;
``npz_tool compare`` → ``sophon compare``; ``model_runner`` → ``sophon run``.
Each goes through :func:`run_command`, so errors print as one ``error:`` line.
"""

from __future__ import annotations

import click

from sophonc.cli.errors import run_command


@click.group("npz_tool")
def npz_tool_group() -> None:
    """TPU-MLIR's npz_tool; only the compare subcommand is provided."""


def _add_compare() -> None:
    from sophonc.cli.compare import compare

    npz_tool_group.add_command(compare, "compare")


def model_transform() -> None:
    """Console script ``model_transform``: the flags of TPU-MLIR's model_transform.py."""
    from sophonc.cli.transform import transform

    run_command(transform, None, "model_transform")


def npz_tool() -> None:
    """Console script ``npz_tool``: ``npz_tool compare a.npz b.npz --tolerance …``."""
    _add_compare()
    run_command(npz_tool_group, None, "npz_tool")


def model_runner() -> None:
    """Console script ``model_runner``: ``--input X.npz --model M --output out.npz``."""
    from sophonc.cli.run import run

    run_command(run, None, "model_runner")


def run_calibration() -> None:
    """Console script ``run_calibration``: TPU-MLIR's calibration flags."""
    from sophonc.cli.calibrate import calibrate

    run_command(calibrate, None, "run_calibration")


def model_deploy() -> None:
    """Console script ``model_deploy``: TPU-MLIR's deploy flags."""
    from sophonc.cli.deploy import deploy_command

    run_command(deploy_command, None, "model_deploy")
