"""``sophon run`` (alias ``model_runner``): run a model on npz or picture input.

A compiled model (``.bmodel``, recognised by its header) runs in the simulator of
the backend for the chip it names; our IR text file (``.mlir``/``.sir``) runs in
the reference interpreter — a lowered program (``*_tpu.mlir``) in its chip's
program interpreter; a framework model (anything a frontend claims, e.g.
``.onnx``) runs in that framework's reference runtime. Pictures need the
preprocessing ``sophon transform`` recorded, so they are accepted for IR files
and compiled models. The result npz is written atomically, keyed like TPU-MLIR's
dumps.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import numpy.typing as npt

from sophonc.api import FrontendOptions
from sophonc.cli.options import OutputFiles
from sophonc.errors import ModelLoadError, SophonError
from sophonc.inputs import build_inputs, split_paths
from sophonc.interp import Interpreter
from sophonc.npzfile import read_npz

IR_SUFFIXES = (".mlir", ".sir")
CONTAINER_SUFFIXES = (".bmodel", ".cvimodel")

Arrays = dict[str, npt.NDArray[np.generic]]


def run_ir(model: Path, input_spec: str, dump_all: bool) -> Arrays:
    """Run our IR file on ``input_spec`` (npz, pictures or npy).

    A top-level module runs in the reference interpreter; a lowered program
    (its metadata names a chip) in that chip's program interpreter.
    """
    from sophonc.ir.text import load_module

    module = load_module(model)
    inputs = build_inputs(split_paths(input_spec), module.graph.inputs)
    chip = module.metadata.get("chip")
    if module.metadata.get("state") == "TPU_LOWERED" and isinstance(chip, str):
        from sophonc.plugins.registry import load_backend

        return load_backend(chip).run_program(module, inputs, dump_all=dump_all)
    return Interpreter(module).run(inputs, dump_all=dump_all)


def run_container(model: Path, input_spec: str, dump_all: bool) -> Arrays:
    """Run a compiled model in the simulator of the chip it was compiled for."""
    from sophonc.formats.detect import container_chip
    from sophonc.plugins.registry import load_backend

    data = model.read_bytes()
    backend = load_backend(container_chip(data, str(model)))
    inputs = build_inputs(split_paths(input_spec), backend.model_inputs(data))
    return backend.simulate(data, inputs, dump_all=dump_all)


def run_framework(model: Path, input_spec: str, dump_all: bool) -> Arrays:
    """Run a framework model on an npz in its own runtime (through its frontend)."""
    from sophonc.plugins.registry import frontend_for_path

    frontend = frontend_for_path(model)
    paths = split_paths(input_spec)
    if len(paths) != 1 or paths[0].suffix.lower() != ".npz":
        raise SophonError(
            f"a {frontend.name} model takes one .npz input; for pictures run "
            f"'sophon transform' first and give the IR file to --model"
        )
    inputs = read_npz(paths[0])
    options = FrontendOptions(model_name=model.stem)
    feeds = {
        k: np.asarray(v, dtype=np.float32) if v.dtype == np.float64 else v
        for k, v in inputs.items()
    }
    return frontend.reference_outputs(model, options, feeds, all_tensors=dump_all)


@click.command("run")
@click.option("--input", "input_spec", required=True, help=".npz, pictures or .npy per input.")
@click.option("--model", required=True, help="A .bmodel, an IR file, or a framework model.")
@click.option("--output", required=True, help="npz file for the results.")
@click.option("--dump_all_tensors", is_flag=True, help="Write every tensor, not just outputs.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def run(input_spec: str, model: str, output: str, dump_all_tensors: bool, debug: bool) -> None:
    """Run a model and save its outputs to an npz (model_runner)."""
    model_path = Path(model)
    if not model_path.is_file():
        raise ModelLoadError(f"model file '{model_path}' not found; check --model")
    from sophonc.formats.detect import is_container

    if is_container(model_path) or model_path.suffix.lower() in CONTAINER_SUFFIXES:
        results = run_container(model_path, input_spec, dump_all_tensors)
    elif model_path.suffix.lower() in IR_SUFFIXES:
        results = run_ir(model_path, input_spec, dump_all_tensors)
    else:
        results = run_framework(model_path, input_spec, dump_all_tensors)
    with OutputFiles() as outputs:
        outputs.npz(Path(output), results)
    click.echo(f"wrote {len(results)} tensor(s) to {output}")
