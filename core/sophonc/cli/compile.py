"""``sophon compile``: one command from a framework model to a compiled model.

Transform (frontend chosen from the file), calibrate (INT8, on ``--dataset`` or
``--data_list`` unless ``--calibration_table`` is given), quantize, lower and
generate the container for ``--chip`` — the stages of TPU-MLIR's guide without
the files in between. With ``--test_input`` every stage is validated as the
stage commands do it: the top-level module against the framework, the lowered
program against the top-level module, the container against the program. Only
``-o`` is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.thresholds import canonical_method
from sophonc.cli.calibrate import iter_samples, sample_paths
from sophonc.cli.deploy import parse_mode, write_bytes_atomically
from sophonc.cli.model_flags import import_model, model_flags, parse_model_flags
from sophonc.cli.options import OutputFiles, parse_names, step_printer
from sophonc.cli.progress import progress
from sophonc.cli.reporting import fail_unless_passed, output_cosines, print_report
from sophonc.compare import compare_arrays, parse_tolerance
from sophonc.deploy import DeployRequest, deploy
from sophonc.errors import SophonError
from sophonc.inputs import build_inputs, split_paths
from sophonc.interp import Interpreter


@click.command("compile")
@click.argument("model_def")
@click.option("--processor", "--chip", "chip", required=True, help="Target chip, e.g. bm1684x.")
@click.option("--quantize", required=True, help="F32, F16, BF16 or INT8.")
@click.option("-o", "--output", "output", required=True, help="The compiled model to write.")
@click.option("--model_name", default=None, help="Net name (default: the model file's stem).")
@model_flags
@click.option("--dataset", default=None, help="Calibration samples folder (INT8).")
@click.option("--data_list", default=None, help="Calibration samples list file (INT8).")
@click.option("--input_num", default=0, type=int, help="Calibration samples to use (0 = all).")
@click.option("--cali_method", default="kl", help="Calibration method (kl, max, …).")
@click.option("--tune_num", default=5, type=int, help="Samples for kl's tune step.")
@click.option("--calibration_table", default=None, help="Use this table instead of calibrating.")
@click.option("--quantize_table", default=None, help="qtable: per-layer precision overrides.")
@click.option("--asymmetric", is_flag=True, help="Asymmetric INT8 (zero points).")
@click.option("--test_input", default=None, help="Picture(s), .npz or .npy to validate with.")
@click.option("--tolerance", default=None, help="Minimum cosine,euclid: program vs F32.")
@click.option("--excepts", default="-", help="Comma list of tensors not to compare.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def compile_command(
    model_def: str,
    chip: str,
    quantize: str,
    output: str,
    model_name: str | None,
    dataset: str | None,
    data_list: str | None,
    input_num: int,
    cali_method: str,
    tune_num: int,
    calibration_table: str | None,
    quantize_table: str | None,
    asymmetric: bool,
    test_input: str | None,
    tolerance: str | None,
    excepts: str,
    debug: bool,
    **flags: Any,
) -> None:
    """Compile a model for a chip in one step (transform, calibrate, deploy)."""
    from sophonc.plugins.registry import load_backend

    model_path = Path(model_def)
    mode = parse_mode(quantize)
    backend = load_backend(chip)
    parsed = parse_model_flags(model_name or model_path.stem, flags)
    method = canonical_method(cali_method)
    calibrating = mode == "INT8" and calibration_table is None
    if calibrating and dataset is None and data_list is None:
        raise SophonError(
            "--quantize INT8 needs calibration samples (--dataset or --data_list) or a "
            "--calibration_table"
        )
    samples = sample_paths(dataset, data_list, input_num) if calibrating else []
    request = DeployRequest(
        quantize=mode,
        calibration_table=Path(calibration_table) if calibration_table else None,
        quantize_table=Path(quantize_table) if quantize_table else None,
        asymmetric=asymmetric,
        tolerance=parse_tolerance(tolerance) if tolerance else None,
        excepts=set(parse_names(excepts)),
    )
    step = step_printer(4 + (1 if calibrating else 0) + (5 if test_input else 3))
    frontend, module = import_model(model_path, parsed, step)
    inputs = reference = None
    if test_input:
        inputs = build_inputs(split_paths(test_input), module.graph.inputs)
        step(f"validating the import against the {frontend.name} runtime")
        framework = frontend.reference_outputs(model_path, parsed.options, inputs)
        reference = Interpreter(module).run(inputs, dump_all=True)
        report = compare_arrays(reference, framework, (0.99, 0.99), compare_all=True)
        print_report(report, f"top-level model vs {frontend.name}")
        fail_unless_passed(report, "the imported model", "tolerance", "report this as a bug")
    if calibrating:
        step(f"calibrating on {len(samples)} samples ({method})")
        settings = CalibrationSettings(method, tune_num=tune_num)
        with progress(len(samples), "calibrating") as tick:
            table: CalibrationTable | None
            table, _ = run_calibration(
                module, lambda: iter_samples(module, samples), len(samples), settings, tick
            )
        request.table = table.as_stored()
    result = deploy(module, backend, request, inputs, reference, step)
    if result.tpu_report is not None:
        print_report(result.tpu_report, "lowered program vs F32 top-level model")
        output_cosines(result.tpu_report, [v.name for v in module.graph.outputs])
        fail_unless_passed(
            result.tpu_report, "the lowered program", "--tolerance",
            "lower --tolerance, or keep the worst layers in float with --quantize_table",
        )  # fmt: skip
    if result.correctness_report is not None:
        print_report(result.correctness_report, "simulated container vs lowered program")
    with OutputFiles(keep_on_error=debug) as outputs:
        write_bytes_atomically(Path(output), result.bmodel)
        outputs.record(Path(output))
    click.echo(f"wrote {output} ({len(result.bmodel)} bytes, {backend.name}, {mode})")
