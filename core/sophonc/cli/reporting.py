"""Printing a comparison the way TPU-MLIR does, and failing on it in one line."""

from __future__ import annotations

import click

from sophonc.compare import CompareReport, format_summary, format_table
from sophonc.errors import SophonError


def print_report(report: CompareReport, title: str, *, verbose: bool = False) -> None:
    """The failing rows (every row with ``verbose``) and the summary."""
    click.echo(f"== {title}")
    for line in [*format_table(report, failures_only=not verbose), *format_summary(report)]:
        click.echo(line)


def fail_unless_passed(report: CompareReport, what: str, flag: str, hint: str) -> None:
    """One-line SophonError naming the worst tensor when ``report`` failed."""
    if report.passed:
        return
    worst = report.worst() or report.rows[0]
    sim = worst.similarity
    numbers = (
        f"cosine {sim.cosine:.6f}, euclid {sim.euclid:.6f}"
        if sim is not None
        else f"shape {list(worst.shape_a)} vs {list(worst.shape_b)}"
    )
    tol = report.tolerance
    raise SophonError(
        f"{len(report.failures)} tensor(s) of {what} fail {flag} {tol[0]},{tol[1]}; worst "
        f"'{worst.name}' is {worst.status} ({numbers}); {hint}"
    )


def output_cosines(report: CompareReport, names: list[str]) -> None:
    """One ``output <name>: cosine …`` line per model output."""
    for name in names:
        row = report.row(name)
        if row is None or row.similarity is None:
            click.echo(f"output {name}: not compared")
        else:
            s = row.similarity
            click.echo(
                f"output {name}: cosine {s.cosine:.6f}, euclid {s.euclid:.6f}, sqnr {s.sqnr:.2f} dB"
            )
