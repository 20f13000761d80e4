"""``sophon transform`` (alias ``model_transform``): model file → top-level IR.

Takes TPU-MLIR's ``model_transform`` flags unchanged. The frontend is chosen from
the model file, the imported module is canonicalised, image-like inputs get their
preprocessing attributes, and the IR text plus its weights npz are written. With
``--test_input`` the framework's own runtime and our interpreter run on the same
input, every tensor both produce is compared, and a result below ``--tolerance``
fails the command: a transformed model is only written if it computes what the
original computes. Nothing this run wrote survives a failure (``--debug`` keeps
the npz dumps of a failed comparison for inspection).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sophonc.api import Frontend, FrontendOptions
from sophonc.cli.model_flags import import_model, model_flags, parse_model_flags
from sophonc.cli.options import OutputFiles, StepPrinter, step_printer
from sophonc.compare import compare_arrays, format_summary, format_table, parse_excepts
from sophonc.compare.report import CompareReport, parse_tolerance
from sophonc.errors import ModelLoadError, SophonError
from sophonc.inputs import build_inputs, split_paths
from sophonc.interp import Interpreter
from sophonc.ir.module import Module


def weight_file_for(mlir: Path, model_name: str) -> Path:
    """TPU-MLIR's top-level weight file name, beside the IR file."""
    return mlir.parent / f"{model_name.lower()}_top_f32_all_weight.npz"


def validate(
    module: Module,
    frontend: Frontend,
    model_def: Path,
    options: FrontendOptions,
    test_input: str,
    test_result: Path,
    tolerance: tuple[float, float],
    excepts: set[str],
    outputs: OutputFiles,
    step: StepPrinter,
) -> CompareReport:
    """Run framework and interpreter on the test input and compare every tensor."""
    name = options.model_name
    step("preparing test input")
    inputs = build_inputs(split_paths(test_input), module.graph.inputs)
    outputs.npz(Path(f"{name}_in_f32.npz"), inputs)
    step(f"running the {frontend.name} reference runtime")
    ref = frontend.reference_outputs(model_def, options, inputs, all_tensors=True)
    outputs.npz(Path(f"{name}_ref_outputs.npz"), ref)
    step("running the sophonc interpreter")
    top = Interpreter(module).run(inputs, dump_all=True)
    outputs.npz(test_result, top)
    step("comparing")
    report = compare_arrays(top, ref, tolerance, excepts=excepts, compare_all=True)
    if not report.rows:
        raise SophonError(
            f"no tensor name is shared by '{test_result}' and '{name}_ref_outputs.npz', so "
            f"nothing could be validated; check --excepts and --output_names"
        )
    for line in [*format_table(report), *format_summary(report)]:
        click.echo(line)
    for v in module.graph.outputs:
        row = report.row(v.name)
        if row is None or row.similarity is None:
            click.echo(f"output {v.name}: not compared")
        else:
            click.echo(f"output {v.name}: cosine {row.similarity.cosine:.6f}")
    if not report.passed:
        worst = report.worst() or report.rows[0]
        sim = worst.similarity
        numbers = (
            f"cosine {sim.cosine:.6f}, euclid {sim.euclid:.6f}"
            if sim is not None
            else f"shape {list(worst.shape_a)} vs {list(worst.shape_b)}"
        )
        raise SophonError(
            f"{len(report.failures)} tensor(s) differ from {frontend.name} beyond --tolerance "
            f"{tolerance[0]},{tolerance[1]}; worst '{worst.name}' is {worst.status} ({numbers}); "
            f"add --debug to keep the npz dumps for inspection"
        )
    return report


@click.command("transform")
@click.option("--model_name", required=True, help="Name of the model; prefixes the npz files.")
@click.option("--model_def", required=True, help="Model file (.onnx, …).")
@model_flags
@click.option("--test_input", default=None, help=".npz, pictures or .npy to validate with.")
@click.option("--test_result", default=None, help="npz of our interpreter's tensors.")
@click.option("--excepts", default="-", help="Comma list of tensors not to compare.")
@click.option("--tolerance", default="0.99,0.99", help="Minimum cosine,euclid similarity.")
@click.option("--mlir", required=True, help="Output IR file (weights npz written beside it).")
@click.option("--debug", is_flag=True, help="Tracebacks; keep the files of a failed check.")
def transform(
    model_name: str,
    model_def: str,
    test_input: str | None,
    test_result: str | None,
    excepts: str,
    tolerance: str,
    mlir: str,
    debug: bool,
    **flags: Any,
) -> None:
    """Convert a model to sophonc's top-level IR and validate it (model_transform)."""
    from sophonc.ir.text import load_module, save_module

    model_path = Path(model_def)
    if not model_path.is_file():
        raise ModelLoadError(f"model file '{model_path}' not found; check --model_def")
    parsed = parse_model_flags(model_name, flags)
    tol = parse_tolerance(tolerance)
    mlir_path = Path(mlir)
    weight_path = weight_file_for(mlir_path, model_name)
    step = step_printer(7 if test_input else 3)
    frontend, module = import_model(model_path, parsed, step)
    with OutputFiles(keep_on_error=debug) as outputs:
        step(f"writing {mlir_path} and {weight_path.name}")
        try:
            mlir_path.parent.mkdir(parents=True, exist_ok=True)
            save_module(module, mlir_path, weight_path)
        except OSError as exc:
            raise SophonError(f"cannot write '{mlir_path}': {exc.strerror or exc}") from None
        outputs.record(mlir_path)
        outputs.record(weight_path)
        if test_input:
            saved = load_module(mlir_path)
            result = Path(test_result or f"{model_name}_top_outputs.npz")
            validate(
                saved,
                frontend,
                model_path,
                parsed.options,
                test_input,
                result,
                tol,
                parse_excepts(excepts),
                outputs,
                step,
            )
    click.echo(f"wrote {mlir_path} ({len(module.graph.nodes)} ops) and {weight_path}")
