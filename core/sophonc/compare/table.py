"""Text rendering of a :class:`CompareReport`: a per-tensor table and a summary.

Kept apart from the arithmetic so the CLI, the demo and tests print the same
lines, and so the numbers can be asserted without parsing text.
"""

from __future__ import annotations

import math

from sophonc.compare.metrics import TensorResult
from sophonc.compare.report import CompareReport

HEADER = f"{'tensor':<48} {'status':<11} {'cosine':>10} {'euclid':>10} {'sqnr(dB)':>9}  shape"


def _num(x: float, width: int, digits: int) -> str:
    if math.isnan(x):
        return f"{'-':>{width}}"
    if math.isinf(x):
        return f"{('inf' if x > 0 else '-inf'):>{width}}"
    return f"{x:>{width}.{digits}f}"


def format_row(row: TensorResult) -> str:
    """One table line: name, verdict, cosine, euclid, SQNR and shape(s)."""
    name = row.name if len(row.name) <= 48 else "…" + row.name[-47:]
    status = row.status if row.close_order is None else f"{row.status}(e-{row.close_order})"
    if row.similarity is None:
        nums = f"{'-':>10} {'-':>10} {'-':>9}"
    else:
        s = row.similarity
        nums = f"{_num(s.cosine, 10, 6)} {_num(s.euclid, 10, 6)} {_num(s.sqnr, 9, 2)}"
    shape = list(row.shape_a)
    shown = f"{shape}" if row.shape_a == row.shape_b else f"{shape} vs {list(row.shape_b)}"
    return f"{name:<48} {status:<11} {nums}  {shown}"


def format_table(report: CompareReport, *, failures_only: bool = False) -> list[str]:
    """The header and one line per (failing, if asked) tensor."""
    rows = report.failures if failures_only else list(report.rows)
    return [HEADER, *(format_row(r) for r in rows)] if rows else []


def format_summary(report: CompareReport) -> list[str]:
    """Counts per verdict, min_similarity, and the pass/fail line."""
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items()))
    sim = report.min_similarity
    tol = report.tolerance
    return [
        f"{len(report.rows)} tensors compared ({counts})"
        + (f", {report.skipped} not sampled (use --all)" if report.skipped else ""),
        f"min_similarity = (cosine {_num(sim.cosine, 0, 6).strip()}, "
        f"euclid {_num(sim.euclid, 0, 6).strip()}, sqnr {_num(sim.sqnr, 0, 2).strip()})",
        f"tolerance = (cosine > {tol[0]}, euclid > {tol[1]}): "
        + ("PASSED" if report.passed else "FAILED"),
    ]
