"""``sophon compare`` (alias ``npz_tool compare``): two npz dumps, tensor by tensor.

The first file is the target, the second the reference (SQNR's signal is the
target), as in TPU-MLIR. Exit status 0 when every compared tensor passes, 1
otherwise, so scripts can gate on it.
"""

from __future__ import annotations

from pathlib import Path

import click

from sophonc.compare import compare_arrays, format_summary, format_table, parse_excepts
from sophonc.compare.report import parse_tolerance
from sophonc.errors import SophonError
from sophonc.npzfile import read_npz


@click.command("compare")
@click.argument("target", type=click.Path(path_type=Path))
@click.argument("reference", type=click.Path(path_type=Path))
@click.option("--tolerance", default="0.99,0.99", help="Minimum cosine,euclid similarity.")
@click.option("--excepts", default="-", help="Comma list of tensors not to compare.")
@click.option("-a", "--all", "compare_all", is_flag=True, help="Compare every shared tensor.")
@click.option("-v", "--verbose", count=True, help="Print every tensor, not only failures.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def compare(
    target: Path,
    reference: Path,
    tolerance: str,
    excepts: str,
    compare_all: bool,
    verbose: int,
    debug: bool,
) -> None:
    """Compare two npz files: EQUAL / CLOSE / SIMILAR / NOT_SIMILAR per tensor."""
    tol = parse_tolerance(tolerance)
    a = read_npz(target)
    b = read_npz(reference)
    report = compare_arrays(a, b, tol, excepts=parse_excepts(excepts), compare_all=compare_all)
    if not report.rows:
        raise SophonError(
            f"'{target}' and '{reference}' share no tensor name (after --excepts); "
            f"compare dumps of the same model"
        )
    for line in format_table(report, failures_only=not verbose):
        click.echo(line)
    for line in format_summary(report):
        click.echo(line)
    if not report.passed:
        worst = report.worst() or report.rows[0]
        sim = worst.similarity
        numbers = f" (cosine {sim.cosine:.6f}, euclid {sim.euclid:.6f})" if sim else ""
        raise SophonError(
            f"{len(report.failures)} of {len(report.rows)} tensors fail --tolerance "
            f"{tol[0]},{tol[1]}; worst '{worst.name}' is {worst.status}{numbers}"
        )
