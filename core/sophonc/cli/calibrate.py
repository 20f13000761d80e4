"""``sophon calibrate`` (aliases ``run_calibration``, ``run_calibration.py``).

TPU-MLIR's flags and table format: samples from ``--dataset`` (TPU-MLIR's sorted,
seeded-shuffle selection) or ``--data_list``, preprocessed with the settings the
transform stored on the IR's inputs, run through the reference interpreter with
streamed statistics; thresholds by ``--cali_method`` (``kl`` with the tune
step by default); the table written atomically with ``-o``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import click

from sophonc import __version__
from sophonc.calibration.dataset import read_data_list, select_dataset
from sophonc.calibration.runner import CalibrationSettings, run_calibration
from sophonc.calibration.thresholds import canonical_method
from sophonc.cli.options import echo_err
from sophonc.cli.progress import progress
from sophonc.errors import SophonError
from sophonc.inputs import Arrays, build_inputs
from sophonc.ir.module import Module


def sample_paths(
    dataset: str | None, data_list: str | None, input_num: int
) -> list[tuple[Path, ...]]:
    """The samples of ``--dataset`` or ``--data_list`` (exactly one must be given)."""
    if (dataset is None) == (data_list is None):
        raise SophonError("give the calibration samples with --dataset DIR or --data_list FILE")
    if dataset is not None:
        return [(p,) for p in select_dataset(dataset, input_num)]
    assert data_list is not None
    return read_data_list(data_list, input_num)


def iter_samples(module: Module, samples: Sequence[tuple[Path, ...]]) -> Iterator[Arrays]:
    """Each sample's input tensors, loaded (and preprocessed) one at a time."""
    for paths in samples:
        yield build_inputs(list(paths), module.graph.inputs)


def load_ir(path: str) -> Module:
    """The transformed model (IR text + weights), with a clear error if missing."""
    from sophonc.ir.text import load_module

    return load_module(Path(path))


@click.command("calibrate")
@click.argument("mlir_file")
@click.option("--dataset", default=None, help="Folder of samples (images, .npy or .npz).")
@click.option("--data_list", default=None, help="File with one sample per line.")
@click.option("--input_num", default=0, type=int, help="Samples to use (0 = all).")
@click.option("--cali_method", default="kl", help="kl, max, percentile9999, mse, aciq_gauss, …")
@click.option("--histogram_bin_num", default=2048, type=int, help="Histogram bins.")
@click.option("--tune_num", default=5, type=int, help="Samples for kl's tune step (0 = none).")
@click.option("--processor", "--chip", "chip", default=None, help="Accepted for compatibility.")
@click.option("-o", "--output", "output", required=True, help="Calibration table to write.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def calibrate(
    mlir_file: str,
    dataset: str | None,
    data_list: str | None,
    input_num: int,
    cali_method: str,
    histogram_bin_num: int,
    tune_num: int,
    chip: str | None,
    output: str,
    debug: bool,
) -> None:
    """Compute a calibration table for INT8 deployment (run_calibration)."""
    method = canonical_method(cali_method)
    if histogram_bin_num < 128:
        raise SophonError(f"--histogram_bin_num {histogram_bin_num} is too small; use >= 128")
    if tune_num < 0:
        raise SophonError(f"--tune_num must be 0 or positive, got {tune_num}")
    module = load_ir(mlir_file)
    samples = sample_paths(dataset, data_list, input_num)
    echo_err(f"calibrating {Path(mlir_file).name} on {len(samples)} samples ({method})")
    settings = CalibrationSettings(method, histogram_bin_num, tune_num)
    with progress(len(samples), "calibrating") as tick:
        table, _ = run_calibration(
            module, lambda: iter_samples(module, samples), len(samples), settings, tick
        )
    table.write(
        Path(output),
        mlir_file=Path(mlir_file).name,
        method=method,
        histogram_bins=histogram_bin_num,
        sample_count=len(samples),
        tune_count=tune_num if method == "kl" else 0,
        version=f"sophonc-{__version__}",
    )
    click.echo(f"wrote {output} ({len(table)} tensors, {len(samples)} samples, {method})")
