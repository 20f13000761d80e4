"""``sophon qtable`` (aliases ``run_qtable``, ``run_qtable.py``): the mixed-precision search.

TPU-MLIR's flags. Writes the qtable (``-o``) atomically, ``<qtable>_loss.txt``
(every layer's measured harm) and ``<qtable>_cali_table`` (the calibration
table with the better thresholds found; deploy with it and the qtable). When
the all-INT8 program already reaches ``--expected_cos`` it writes an empty
qtable and says so.
"""

from __future__ import annotations

import logging
from pathlib import Path

import click

from sophonc import __version__
from sophonc.calibration.table import CalibrationTable
from sophonc.cli.errors import run_command
from sophonc.cli.options import OutputFiles, echo_err, step_printer
from sophonc.cli.progress import progress
from sophonc.npzfile import replace_atomically
from sophonc.quantize.qtable import write_qtable
from sophonc_quant_mixed.driver import SearchInputs, SearchReport, run_search
from sophonc_quant_mixed.report import (
    loss_text,
    method_lines,
    qtable_text,
    seconds_line,
    summary_table,
)
from sophonc_quant_mixed.samples import load_samples, split_samples
from sophonc_quant_mixed.settings import (
    FP_TYPES,
    SearchSettings,
    check_cosine,
    check_max_float_layers,
    resolve_fp_type,
)

log = logging.getLogger(__name__)


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file."""

    def fill(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    replace_atomically(path, fill)


@click.command("qtable")
@click.argument("mlir")
@click.option("--dataset", default=None, help="Folder of samples (images, .npy or .npz).")
@click.option("--data_list", default=None, help="File with one sample per line.")
@click.option("--calibration_table", required=True, help="Table from sophon calibrate.")
@click.option("--processor", "--chip", "chip", required=True, help="Target chip, e.g. bm1684x.")
@click.option("--fp_type", default="auto", type=click.Choice(FP_TYPES, case_sensitive=False),
              help="Mode of float layers (auto: the chip's default).")  # fmt: skip
@click.option("--input_num", default=10, type=int, help="Samples the search uses.")
@click.option("--verify_num", default=None, type=int,
              help="Held-back samples checking the choice (default: --input_num).")  # fmt: skip
@click.option("--expected_cos", default=0.99, type=float, help="Output cosine to reach.")
@click.option("--min_layer_cos", default=0.99, type=float,
              help="Layers whose own cosine is lower get other thresholds tried.")  # fmt: skip
@click.option("--max_float_layers", default=None, type=int, help="Most float layers to choose.")
@click.option("--debug_cmd", default="", help="Accepted for compatibility.")
@click.option("-o", "--output", "output", required=True, help="qtable to write.")
@click.option("--debug", is_flag=True, help="Show tracebacks and the search's log.")
def qtable_command(
    mlir: str,
    dataset: str | None,
    data_list: str | None,
    calibration_table: str,
    chip: str,
    fp_type: str,
    input_num: int,
    verify_num: int | None,
    expected_cos: float,
    min_layer_cos: float,
    max_float_layers: int | None,
    debug_cmd: str,
    output: str,
    debug: bool,
) -> None:
    """Find the fewest layers to keep in float so INT8 reaches --expected_cos (run_qtable)."""
    from sophonc.ir.text import load_module
    from sophonc.plugins.registry import load_backend

    if debug_cmd:
        log.debug("--debug_cmd %s is accepted and ignored", debug_cmd)
    settings = SearchSettings(
        expected_cos=check_cosine("expected_cos", expected_cos),
        min_layer_cos=check_cosine("min_layer_cos", min_layer_cos),
        max_float_layers=check_max_float_layers(max_float_layers),
    )
    backend = load_backend(chip)
    settings = SearchSettings(
        settings.expected_cos, settings.min_layer_cos, settings.max_float_layers,
        resolve_fp_type(fp_type, backend.target),
    )  # fmt: skip
    split = split_samples(
        dataset, data_list, input_num, input_num if verify_num is None else verify_num
    )
    module = load_module(Path(mlir))
    table = CalibrationTable.read(calibration_table)
    job = SearchInputs(module, backend, table, settings, load_samples(module, split.search),
                       load_samples(module, split.held_back))  # fmt: skip
    echo_err(
        f"searching {Path(mlir).name} for {backend.name}: {len(split.search)} samples, "
        f"{len(split.held_back)} held back, float layers in {settings.fp_type}"
    )
    report = run_search(job, step_printer(6 if split.held_back else 5), progress)
    qtable = Path(output)
    table_path = Path(f"{output}_cali_table")
    with OutputFiles(keep_on_error=debug) as outputs:
        if report.early_exit:
            changed = report.table is not None
            write_qtable(qtable, qtable_text(report, module, table_path.name if changed else None))
            outputs.record(qtable)
            if changed:
                _write_table(report, table, table_path, Path(mlir).name)
                outputs.record(table_path)
            _print_early_exit(report, table, qtable, table_path, mlir, backend.name)
            return
        write_qtable(qtable, qtable_text(report, module, table_path.name))
        outputs.record(qtable)
        loss = Path(f"{output}_loss.txt")
        write_text(loss, loss_text(report))
        outputs.record(loss)
        _write_table(report, table, table_path, Path(mlir).name)
        outputs.record(table_path)
    _print_summary(report, table, qtable, loss, table_path, mlir, backend.name)


def _write_table(report: SearchReport, given: CalibrationTable, path: Path, mlir: str) -> None:
    assert report.table is not None
    method = given.header.method or "kl"
    if report.whole is not None and report.whole.method is not None:
        method = f"{report.whole.method} (sophon qtable's pick of the whole tables)"
    if report.choices:
        method = f"{method}, {len(report.choices)} tensors by sophon qtable's search"
    report.table.write(
        path,
        mlir_file=given.header.mlir_file or mlir,
        method=method,
        histogram_bins=given.header.histogram_bins or 2048,
        sample_count=given.header.sample_count or report.search_samples,
        tune_count=given.header.tune_count or 0,
        version=f"sophonc-{__version__}",
    )


def _print_early_exit(
    report: SearchReport,
    given: CalibrationTable,
    qtable: Path,
    table_path: Path,
    mlir: str,
    chip: str,
) -> None:
    expected = report.settings.expected_cos
    _print_whole_tables(report, given)
    _print_held_back(report)
    if report.table is None:
        click.echo(
            f"all-INT8 already reaches expected_cos {expected}: output cosine "
            f"{report.all_int8_cos:.6f}{_plain(report.all_int8_plain, report.silent)}; "
            f"wrote an empty qtable {qtable}"
        )
        return
    assert report.whole is not None and report.whole.method is not None
    click.echo(
        f"all-INT8 with the {_method_label(report.whole.method, given)} table reaches "
        f"expected_cos {expected}: output cosine {report.whole.cosine:.6f}; wrote an empty "
        f"qtable {qtable} and that table, {table_path}"
    )
    click.echo(
        f"deploy with: sophon deploy --mlir {mlir} --quantize INT8 --chip {chip} "
        f"--calibration_table {table_path} --model <out>.bmodel"
    )


def _method_label(method: str, given: CalibrationTable) -> str:
    """``kl`` rebuilt here has no tune step (the given kl table may have one)."""
    return "kl (no tune step)" if method == "kl" and given.header.tune_count else method


def _print_whole_tables(report: SearchReport, given: CalibrationTable) -> None:
    whole = report.whole
    if whole is None:
        return
    tried = ", ".join(f"{_method_label(m, given)} {c:.6f}" for m, c in whole.cosines.items())
    picked = "the given table" if whole.method is None else _method_label(whole.method, given)
    click.echo(
        f"whole tables, all-INT8 cosine on the search samples: given "
        f"({given.header.method or 'unknown method'}) {report.all_int8_cos:.6f}, {tried}; "
        f"going on with {picked}"
    )


def _print_held_back(report: SearchReport) -> None:
    held = report.held_back
    if held is None:
        return
    if report.early_exit:
        click.echo(f"held-back check on {held.samples} samples: all-INT8 {held.all_int8:.6f}")
        return
    click.echo(
        f"held-back check on {held.samples} samples: all-INT8 {held.all_int8:.6f}, "
        f"chosen {held.chosen:.6f}"
    )
    if held.silent:
        click.echo(
            f"  (plain cosines: all-INT8 {held.all_int8_plain:.6f}, chosen "
            f"{held.chosen_plain:.6f}; {held.silent} samples with silent F32 outputs)"
        )


def _print_summary(
    report: SearchReport,
    given: CalibrationTable,
    qtable: Path,
    loss: Path,
    table_path: Path,
    mlir: str,
    chip: str,
) -> None:
    click.echo(summary_table(report))
    start = given.header.method or "the given table"
    if report.whole is not None and report.whole.method is not None:
        start = _method_label(report.whole.method, given)
    changed = method_lines(report, start)
    if changed:
        click.echo(f"\ncalibration method changed for {len(changed)} tensors:")
        for line in changed:
            click.echo(f"  {line}")
    dropped = report.proposed - len(report.choices)
    if dropped:
        click.echo(
            f"({dropped} other threshold changes helped their layer alone but not the "
            f"all-INT8 program; not kept)"
        )
    s = report.settings
    click.echo(
        f"\nall-INT8 output cosine: {report.all_int8_cos:.6f} on {report.search_samples} samples"
        f"{_plain(report.all_int8_plain, report.silent)}"
    )
    _print_whole_tables(report, given)
    if report.tuned_cos is not None:
        click.echo(f"all-INT8 with the improved thresholds: {report.tuned_cos:.6f}")
    final = report.final
    assert final is not None
    carried = len(report.overrides) - sum(len(x.nodes) for x in report.chosen)
    where, silent = "the search samples", report.silent
    if report.widened is not None and report.held_back is not None:
        w = report.widened
        silent += report.held_back.silent
        _print_held_back(report)
        tried = ", ".join(f"{label} {cos:.6f}" for label, cos in w.tables.items())
        click.echo(
            f"the {_count(w.chosen_before, 'float layer')} chosen on the search samples "
            f"missed the target on the held-back ones: searched again for a choice that "
            f"reaches it on both sets (all-INT8 per table, the lower of the two sets: "
            f"{tried}; going on with the {w.picked} table)"
        )
        where = f"both sets (search {w.search:.6f}, held-back {w.held_back:.6f}; the lower)"
    click.echo(
        f"chosen: {_count(len(report.chosen), 'float layer')} ({s.fp_type}; "
        f"{_count(len(report.overrides), 'qtable line')} with "
        f"{_count(carried, 'data-movement op')} following them) -> output cosine "
        f"{final.cosine:.6f} on {where}{_plain(final.plain, silent)}"
    )
    if report.held_back is None:
        click.echo("held-back check: no samples left beyond --input_num")
    elif report.widened is None:
        _print_held_back(report)
    guess = f"; the loss model first guessed {report.guess}" if report.guess else ""
    click.echo(f"search time: {seconds_line(list(report.seconds.items()))}, "
               f"{report.programs_run} programs run{guess}")  # fmt: skip
    if not report.reached:
        limit = "" if s.max_float_layers is None else f" (--max_float_layers {s.max_float_layers})"
        echo_err(
            f"warning: expected_cos {s.expected_cos} not reached{limit}; the qtable holds "
            f"the best choice found"
        )
    click.echo(f"wrote {qtable}, {loss} and {table_path}")
    click.echo(
        f"deploy with: sophon deploy --mlir {mlir} --quantize INT8 --chip {chip} "
        f"--calibration_table {table_path} --quantize_table {qtable} --model <out>.bmodel"
    )


def _plain(cosine: float, silent: int) -> str:
    """TPU-MLIR's plain mean beside ours, when silent outputs make them differ."""
    if not silent:
        return ""
    return (
        f" (plain mean of cosines, as TPU-MLIR computes it: {cosine:.6f}; {silent} samples "
        f"have silent F32 outputs, left out when the quantized ones are silent too)"
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def run_qtable() -> None:
    """Console scripts ``run_qtable`` / ``run_qtable.py``: TPU-MLIR's run_qtable flags."""
    run_command(qtable_command, None, "run_qtable")
