"""What a search writes: the qtable, the loss file and the summary table.

The qtable is TPU-MLIR's (``name MODE`` lines under its header; no time stamp,
so the same search writes the same bytes). The loss file keeps TPU-MLIR's
``No.i : Layer: <name> Cos: <x>`` lines, most harmful first, with our extra
measures after them on the same line.
"""

from __future__ import annotations

from collections.abc import Sequence

from sophonc.ir.module import Module
from sophonc.quantize.precision import with_fused_names
from sophonc.quantize.qtable import format_qtable
from sophonc_quant_mixed.driver import SearchReport
from sophonc_quant_mixed.layers import Layer, carried_moves

#: Rows of the printed summary (the loss file lists every layer).
SUMMARY_ROWS = 15


def qtable_text(report: SearchReport, module: Module, table_name: str | None) -> str:
    """The qtable of the search's choice (empty body when no layer needs float).

    Each chosen node is followed by the names of the tensors fused into it, so the
    official ``model_deploy`` finds the layer whichever of them its graph keeps.
    """
    carried = carried_moves(report.overrides, report.chosen)
    comments = [
        f"expected_cos: {report.settings.expected_cos}",
        f"float layers: {len(report.chosen)} chosen by the search, "
        f"{len(carried)} data-movement ops following them",
    ]
    if report.early_exit:
        comments.append(f"all-INT8 already reaches it (cosine {report.all_int8_cos:.6f})")
    if table_name is not None:
        comments.append(f"deploy with --calibration_table {table_name}")
    return format_qtable(
        with_fused_names(module, report.overrides),
        chip=report.chip,
        sample_count=report.search_samples,
        comments=comments,
    )


def _harm_accumulated(report: SearchReport, layer: Layer) -> str:
    cos = report.accumulated.get(layer.name)
    return "-" if cos is None else f"{1.0 - cos:.6f}"


def _chosen_label(report: SearchReport, layer: Layer) -> str:
    labels = []
    if layer.name in report.overrides:
        labels.append(report.fp_type)
    labels += [c.method for c in report.choices if c.tensor == layer.name]
    return ", ".join(labels)


def loss_text(report: SearchReport) -> str:
    """Every layer's measures, most harmful first."""
    lines = [
        f"# harm of every layer on {report.search_samples} samples, most harmful first",
        "# Cos: the outputs' mean cosine with only this layer in INT8 (Harm = 1 - Cos);",
        "# Own: its own output's cosine then; Accumulated: its tensor's harm in the all-INT8",
        "# program; Chosen: kept in float, or the calibration method its output now uses",
    ]
    for i, layer in enumerate(report.ranked):
        h = report.harms[layer.name]
        lines.append(
            f"No.{i} : Layer: {layer.name} Cos: {1.0 - h.harm:.8f} Type: {layer.op_type} "
            f"Harm: {h.harm:.8f} Own: {h.own_cos:.6f} "
            f"Accumulated: {_harm_accumulated(report, layer)} "
            f"Chosen: {_chosen_label(report, layer) or '-'}"
        )
    return "\n".join(lines) + "\n"


def summary_rows(report: SearchReport) -> list[Layer]:
    """The layers the summary shows: the most harmful ones and every chosen one."""
    rows = list(report.ranked[:SUMMARY_ROWS])
    rows += [x for x in report.ranked[SUMMARY_ROWS:] if _chosen_label(report, x)]
    return rows


def summary_table(report: SearchReport) -> str:
    """The summary: layer, op type, harm alone, harm accumulated, chosen."""
    rows = summary_rows(report)
    width = max([len("layer"), *(len(x.name) for x in rows)])
    op_width = max([len("op type"), *(len(x.op_type) for x in rows)])
    header = (
        f"{'layer':<{width}}  {'op type':<{op_width}}  {'harm alone':>11}  "
        f"{'harm accum.':>11}  chosen"
    )
    lines = [header, "-" * len(header)]
    for layer in rows:
        lines.append(
            f"{layer.name:<{width}}  {layer.op_type:<{op_width}}  "
            f"{report.harms[layer.name].harm:>11.6f}  {_harm_accumulated(report, layer):>11}  "
            f"{_chosen_label(report, layer)}"
        )
    hidden = len(report.ranked) - len(rows)
    if hidden > 0:
        lines.append(f"... {hidden} more layers in the loss file")
    return "\n".join(lines)


def method_lines(report: SearchReport, given_method: str) -> list[str]:
    """One line per tensor whose calibration method changed."""
    return [
        f"{c.tensor}: {given_method} -> {_method_label(c.method, given_method)} (harm alone "
        f"{c.harm_before:.6f} -> {c.harm_after:.6f})"
        for c in report.choices
    ]


def _method_label(method: str, given_method: str) -> str:
    """``kl`` tried against a tuned ``kl`` table is kl without the tune step."""
    return f"{method} (no tune step)" if method == given_method == "kl" else method


def seconds_line(seconds: Sequence[tuple[str, float]]) -> str:
    """``total 12.3 s (phase 1.0 s, …)``."""
    total = sum(s for _, s in seconds)
    parts = ", ".join(f"{name} {s:.1f} s" for name, s in seconds)
    return f"{total:.1f} s ({parts})"
