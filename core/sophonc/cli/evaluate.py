"""``sophon evaluate``: one model in every precision, one table.

F32, F16, BF16, INT8 symmetric, INT8 asymmetric (when that quantizer is
installed and the chip supports it) and mixed precision (when the ``qtable``
command of the mixed-precision plugin is installed: its search runs with
``--expected_cos``), each compiled into the chip's container and run in its
simulator on ``--test_input``, compared with the original framework's outputs:
cosine, euclidean similarity and SQNR of the worst output, container size and
simulator time per inference.
"""

from __future__ import annotations

import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.calibration.table import CalibrationTable
from sophonc.cli.calibrate import iter_samples, sample_paths
from sophonc.cli.model_flags import import_model, model_flags, parse_model_flags
from sophonc.cli.options import parse_names, step_printer
from sophonc.cli.progress import progress
from sophonc.deploy import DeployRequest
from sophonc.errors import SophonError
from sophonc.evaluate import ModeResult, evaluate_mode, format_results
from sophonc.inputs import build_inputs, split_paths
from sophonc.ir.module import Module
from sophonc.plugins.groups import COMMANDS, QUANTIZERS, installed_names
from sophonc.quantize.precision import layer_names
from sophonc.quantize.qtable import read_qtable

ALL_MODES = ("F32", "F16", "BF16", "INT8", "INT8-asym", "mixed")


def run_mixed_search(
    module: Module, table: CalibrationTable, chip: str, samples: str, input_num: int,
    expected_cos: float, folder: Path,
) -> tuple[Path, CalibrationTable, int]:  # fmt: skip
    """The mixed-precision plugin's ``qtable`` search, run on ``module`` in ``folder``;
    returns the qtable, the calibration table to deploy with and how many ops the
    qtable puts in float."""
    from sophonc.ir.text import save_module

    (entry,) = entry_points(group=COMMANDS, name="qtable")
    command = entry.load()
    mlir = folder / f"{module.name}.mlir"
    save_module(module, mlir, folder / f"{module.name}_top_f32_all_weight.npz")
    table_path = folder / "cali_table"
    table.write(table_path, mlir_file=mlir.name, method="kl", histogram_bins=2048,
                sample_count=0, tune_count=0, version="sophonc")  # fmt: skip
    qtable = folder / "qtable"
    args = [str(mlir), "--dataset" if Path(samples).is_dir() else "--data_list", samples,
            "--calibration_table", str(table_path), "--chip", chip, "--input_num",
            str(input_num), "--expected_cos", str(expected_cos), "-o", str(qtable)]  # fmt: skip
    command.main(args=args, standalone_mode=False)
    improved = qtable.parent / f"{qtable.name}_cali_table"
    chosen = CalibrationTable.read(improved) if improved.is_file() else table
    names = layer_names(module)
    count = len({id(names[n]) for n in read_qtable(qtable) if n in names})
    return qtable, chosen, count


@click.command("evaluate")
@click.argument("model_def")
@click.option("--processor", "--chip", "chip", required=True, help="Target chip, e.g. bm1684x.")
@click.option("--test_input", required=True, help="Picture(s), .npz or .npy to measure on.")
@click.option("--model_name", default=None, help="Net name (default: the model file's stem).")
@model_flags
@click.option("--dataset", default=None, help="Calibration samples folder (INT8 modes).")
@click.option("--data_list", default=None, help="Calibration samples list file (INT8 modes).")
@click.option("--input_num", default=10, type=int, help="Calibration samples to use.")
@click.option("--modes", default=",".join(ALL_MODES), help="Comma list of the modes to run.")
@click.option("--expected_cos", default=0.99, type=float, help="Target of the mixed search.")
@click.option("--runs", default=3, type=int, help="Timed simulator runs per mode.")
@click.option(
    "--work_dir", default=None, type=click.Path(file_okay=False),
    help="Folder to keep the mixed search's files in (a temporary one).",
)  # fmt: skip
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def evaluate_command(
    model_def: str, chip: str, test_input: str, model_name: str | None, dataset: str | None,
    data_list: str | None, input_num: int, modes: str, expected_cos: float, runs: int,
    work_dir: str | None, debug: bool, **flags: Any,
) -> None:  # fmt: skip
    """Compile a model in every precision and compare each with its framework."""
    from sophonc.plugins.registry import load_backend

    backend = load_backend(chip)
    wanted = list(parse_names(modes))
    unknown = [m for m in wanted if m not in ALL_MODES]
    if unknown:
        raise SophonError(f"--modes: unknown mode '{unknown[0]}'; use {', '.join(ALL_MODES)}")
    target = backend.target
    notes: dict[str, str] = {}
    for mode in list(wanted):
        base = "INT8" if mode in ("INT8-asym", "mixed") else mode
        reason = ""
        if base not in target.precisions:
            reason = f"{target.chip} has no {base}"
        elif mode == "INT8-asym" and (
            "asymmetric" not in target.quant_schemes
            or "asymmetric" not in installed_names(QUANTIZERS)
        ):
            reason = "asymmetric INT8 not available (quantizer plugin or chip support missing)"
        elif mode == "mixed" and "qtable" not in installed_names(COMMANDS):
            reason = "no mixed-precision plugin installed (sophon qtable)"
        if reason:
            wanted.remove(mode)
            notes[mode] = reason
    quantized = any(m in wanted for m in ("INT8", "INT8-asym", "mixed"))
    if quantized and dataset is None and data_list is None:
        raise SophonError("INT8 modes need calibration samples: give --dataset or --data_list")
    model_path = Path(model_def)
    parsed = parse_model_flags(model_name or model_path.stem, flags)
    step = step_printer(3 + len(wanted) + (1 if quantized else 0))
    frontend, module = import_model(model_path, parsed, step)
    inputs = build_inputs(split_paths(test_input), module.graph.inputs)
    step(f"running the {frontend.name} reference runtime")
    reference = frontend.reference_outputs(model_path, parsed.options, inputs)
    table = None
    if quantized:
        samples = sample_paths(dataset, data_list, input_num)
        step(f"calibrating on {len(samples)} samples")
        with progress(len(samples), "calibrating") as tick:
            found, _ = run_calibration(
                module, lambda: iter_samples(module, samples), len(samples),
                CalibrationSettings(), tick,
            )  # fmt: skip
        table = found.as_stored()
    results: list[ModeResult] = []
    for mode in wanted:
        step(f"{mode}: quantize, lower, compile, simulate")
        if mode in ("F32", "F16", "BF16"):
            request = DeployRequest(mode)
            results.append(evaluate_mode(mode, module, backend, request, inputs, reference, runs))
        elif mode in ("INT8", "INT8-asym"):
            request = DeployRequest("INT8", table=table, asymmetric=mode == "INT8-asym")
            results.append(evaluate_mode(mode, module, backend, request, inputs, reference, runs))
        else:
            assert table is not None
            source = dataset if dataset is not None else data_list
            assert source is not None
            with tempfile.TemporaryDirectory() as tmp:
                folder = Path(tmp) if work_dir is None else Path(work_dir)
                folder.mkdir(parents=True, exist_ok=True)
                qtable, chosen, count = run_mixed_search(
                    module, table, chip, source, input_num, expected_cos, folder
                )
                request = DeployRequest("INT8", table=chosen, quantize_table=qtable)
                note = f"{count} op(s) in float"
                results.append(
                    evaluate_mode("mixed", module, backend, request, inputs, reference, runs, note)
                )
            if work_dir is None:
                click.echo("(the search's files were in a temporary folder: --work_dir keeps them)")
    for line in format_results(results, frontend.name):
        click.echo(line)
    for mode, reason in notes.items():
        click.echo(f"{mode}: not run ({reason})")
