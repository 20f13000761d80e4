"""``sophon deploy`` (aliases ``model_deploy``, ``model_deploy.py``).

TPU-MLIR's flags: the transformed model, ``--quantize``, ``--processor``/
``--chip``, the calibration and quantize tables, validation against
``--test_input``/``--test_reference`` with ``--tolerance`` and
``--correctness``, and ``--model`` for the compiled file. Writes, like TPU-MLIR,
``<prefix>_tpu.mlir`` (the lowered program) and, with a test input,
``<prefix>_tpu_outputs.npz`` and ``<prefix>_model_outputs.npz``; nothing is
left behind when a step fails.
"""

from __future__ import annotations

from pathlib import Path

import click

from sophonc.cli.options import OutputFiles, parse_names, step_printer
from sophonc.cli.reporting import fail_unless_passed, output_cosines, print_report
from sophonc.compare import parse_tolerance
from sophonc.deploy import DeployRequest, DeployResult, deploy, file_prefix
from sophonc.errors import SophonError
from sophonc.inputs import build_inputs, split_paths
from sophonc.ir.module import Module
from sophonc.npzfile import read_npz

MODES = ("F32", "F16", "BF16", "INT8")


def parse_mode(quantize: str) -> str:
    """``--quantize`` checked and upper-cased."""
    mode = quantize.strip().upper()
    if mode not in MODES:
        raise SophonError(f"--quantize '{quantize}' is not a mode; use one of {', '.join(MODES)}")
    return mode


def finish_deploy(
    result: DeployResult,
    module: Module,
    prefix: str,
    model_path: Path,
    outputs: OutputFiles,
    top_output_names: list[str],
) -> None:
    """Write the files of a deploy run, print its comparisons, fail on them."""
    from sophonc.ir.text import save_module

    tpu_mlir = Path(f"{prefix}_tpu.mlir")
    weights = Path(f"{prefix}_tpu_weights.npz")
    save_module(result.program, tpu_mlir, weights)
    outputs.record(tpu_mlir)
    outputs.record(weights)
    if result.tpu_report is not None and result.tpu_outputs is not None:
        outputs.npz(Path(f"{prefix}_tpu_outputs.npz"), result.tpu_outputs)
        print_report(result.tpu_report, "lowered program vs F32 top-level model")
        output_cosines(result.tpu_report, top_output_names)
        fail_unless_passed(
            result.tpu_report,
            "the lowered program",
            "--tolerance",
            "lower --tolerance, or keep the worst layers in float with --quantize_table "
            "(see 'sophon qtable')",
        )
    model_path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomically(model_path, result.bmodel)
    outputs.record(model_path)
    if result.correctness_report is not None and result.model_outputs is not None:
        outputs.npz(Path(f"{prefix}_model_outputs.npz"), result.model_outputs)
        print_report(result.correctness_report, "simulated container vs lowered program")
        fail_unless_passed(
            result.correctness_report, "the container", "--correctness", "report this as a bug"
        )


def write_bytes_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file."""
    from sophonc.npzfile import replace_atomically

    def fill(tmp: Path) -> None:
        tmp.write_bytes(data)

    try:
        replace_atomically(path, fill)
    except OSError as exc:
        raise SophonError(f"cannot write '{path}': {exc.strerror or exc}") from None


@click.command("deploy")
@click.option("--mlir", required=True, help="The transformed model (sophon transform --mlir).")
@click.option("--quantize", required=True, help="F32, F16, BF16 or INT8.")
@click.option("--processor", "--chip", "chip", required=True, help="Target chip, e.g. bm1684x.")
@click.option("--calibration_table", default=None, help="Table from sophon calibrate (INT8).")
@click.option("--quantize_table", default=None, help="qtable: per-layer precision overrides.")
@click.option("--asymmetric", is_flag=True, help="Asymmetric INT8 (zero points).")
@click.option("--tolerance", default=None, help="Minimum cosine,euclid: program vs F32.")
@click.option("--correctness", default=None, help="Minimum cosine,euclid: container vs program.")
@click.option("--test_input", default=None, help=".npz (e.g. <model>_in_f32.npz) or pictures.")
@click.option("--test_reference", default=None, help="npz of the F32 top-level tensors.")
@click.option("--excepts", default="-", help="Comma list of tensors not to compare.")
@click.option("--compare_all", is_flag=True, help="Also dump every tensor of the container.")
@click.option("--model", required=True, help="Output file (.bmodel).")
@click.option("--debug", is_flag=True, help="Tracebacks; keep the files of a failed check.")
def deploy_command(
    mlir: str,
    quantize: str,
    chip: str,
    calibration_table: str | None,
    quantize_table: str | None,
    asymmetric: bool,
    tolerance: str | None,
    correctness: str | None,
    test_input: str | None,
    test_reference: str | None,
    excepts: str,
    compare_all: bool,
    model: str,
    debug: bool,
) -> None:
    """Quantize, lower and compile a transformed model for a chip (model_deploy)."""
    from sophonc.ir.text import load_module
    from sophonc.plugins.registry import load_backend

    request = DeployRequest(
        quantize=parse_mode(quantize),
        calibration_table=Path(calibration_table) if calibration_table else None,
        quantize_table=Path(quantize_table) if quantize_table else None,
        asymmetric=asymmetric,
        tolerance=parse_tolerance(tolerance) if tolerance else None,
        correctness=parse_tolerance(correctness) if correctness else None,
        excepts=set(parse_names(excepts)),
        compare_all=compare_all,
    )
    backend = load_backend(chip)
    module = load_module(Path(mlir))
    inputs = build_inputs(split_paths(test_input), module.graph.inputs) if test_input else None
    reference = read_npz(Path(test_reference)) if test_reference else None
    prefix = file_prefix(module.name, backend.name, request)
    step = step_printer(8 if inputs is not None else 4)
    top_outputs = [v.name for v in module.graph.outputs]
    with OutputFiles(keep_on_error=debug) as outputs:
        result = deploy(module, backend, request, inputs, reference, step)
        finish_deploy(result, module, prefix, Path(model), outputs, top_outputs)
    size = len(result.bmodel)
    click.echo(f"wrote {model} ({size} bytes, {backend.name}, {request.quantize})")

