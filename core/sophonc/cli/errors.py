"""How every command ends: one ``error:`` line and a non-zero exit, or a traceback
when ``--debug`` was given.

A user error is a :class:`SophonError` (its message names the cause and the fix)
or a click usage error. Anything else is a bug in sophonc or a plugin: it is
still reported in one line, saying so, unless ``--debug`` asks for the
traceback.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

import click

from sophonc.errors import SophonError

#: Exit statuses: 1 for a failed check or a user error, 2 for bad usage.
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def run_command(
    command: click.Command, args: Sequence[str] | None = None, prog_name: str | None = None
) -> None:
    """Run ``command`` as a console script and exit with its status.

    ``args`` defaults to ``sys.argv[1:]``. Never returns.
    """
    argv = list(sys.argv[1:] if args is None else args)
    debug = "--debug" in argv
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        command.main(args=argv, prog_name=prog_name, standalone_mode=False)
    except SophonError as exc:
        if debug:
            raise
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except click.ClickException as exc:
        if debug:
            raise
        hint = ""
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            hint = f" (see '{exc.ctx.command_path} --help')"
        click.echo(f"error: {_one_line(exc.format_message())}{hint}", err=True)
        sys.exit(exc.exit_code if exc.exit_code else EXIT_USAGE)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("error: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except MemoryError:
        if debug:
            raise
        click.echo("error: out of memory; use smaller input shapes or fewer samples", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:
        if debug:
            raise
        click.echo(
            f"error: internal error ({type(exc).__name__}: {_one_line(str(exc))}); "
            f"re-run with --debug for the traceback and report it",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(0)
