"""``sophon plugins``: what is installed, read from package metadata only.

Nothing is imported, so the listing works (and is fast) even when a plugin or
its framework is broken or missing.
"""

from __future__ import annotations

import click

from sophonc.plugins.groups import GROUPS, installed


@click.command("plugins")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def plugins(debug: bool) -> None:
    """List installed frontends, quantizers, backends, hook plugins and commands."""
    for group, title in GROUPS.items():
        found = installed(group)
        click.echo(f"{title}:")
        if not found:
            click.echo("  (none)")
        for p in found:
            click.echo(f"  {p.name:<12} {p.distribution} {p.version}  ({p.target})")
