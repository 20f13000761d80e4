"""calibrate → deploy → run on a tiny model through the command line, and the
one-step compile; the files TPU-MLIR writes, determinism, the simulator."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from sophonc.calibration.table import CalibrationTable
from sophonc.cli.calibrate import calibrate
from sophonc.cli.compile import compile_command
from sophonc.cli.deploy import deploy_command
from sophonc.cli.run import run
from sophonc.cli.transform import transform
from sophonc.deploy import DeployRequest, deploy
from sophonc.errors import SophonError
from sophonc.formats.bmodel import read_bmodel
from sophonc.ir.text import load_module
from sophonc.npzfile import write_npz
from sophonc_backend_bm1684x.backend import BM1684XBackend
from sophonc_backend_bm1684x.target import BM1684X_TARGET

SEED = 41


def invoke(command: object, *args: str) -> Result:
    return CliRunner().invoke(command, list(args))  # type: ignore[arg-type]


@pytest.fixture
def prepared(tiny_onnx: Path, work: Path) -> Path:
    """The tiny model transformed, 6 calibration samples and a test input."""
    rng = np.random.default_rng(SEED)
    data = work / "samples"
    data.mkdir()
    for i in range(6):
        write_npz(data / f"s{i}.npz", {"x": rng.normal(size=(1, 3, 8, 8)).astype(np.float32)})
    write_npz(work / "in.npz", {"x": rng.normal(size=(1, 3, 8, 8)).astype(np.float32)})
    r = invoke(transform, "--model_name", "tiny", "--model_def", str(tiny_onnx), "--mlir",
               "tiny.mlir", "--test_input", "in.npz")  # fmt: skip
    assert r.exit_code == 0, r.output
    return work


def deploy_args(mode: str, model: str, *extra: str) -> list[str]:
    return ["--mlir", "tiny.mlir", "--quantize", mode, "--processor", "bm1684x",
            "--test_input", "tiny_in_f32.npz", "--model", model, *extra]  # fmt: skip


def test_calibrate_writes_tpu_mlirs_table_format(prepared: Path) -> None:
    r = invoke(calibrate, "tiny.mlir", "--dataset", "samples", "-o", "tiny_cali_table")
    assert r.exit_code == 0, r.output
    lines = (prepared / "tiny_cali_table").read_text().splitlines()
    assert lines[0] == "# mlir version: sophonc-0.1.0 cali version 1.0"
    assert lines[1] == "# mlir: tiny.mlir"
    assert lines[3:9] == [
        "# quantization threshold calculation method: kl",
        "# histogram number: 2048",
        "# sample number: 6",
        "###",
        "# tune number: 5",
        "###",
    ]
    table = CalibrationTable.read(prepared / "tiny_cali_table")
    assert list(table) == ["x", "r_Relu", "y_MaxPool"]
    assert table["r_Relu"].min == 0.0  # a ReLU output is non-negative


@pytest.mark.parametrize("mode", ["F32", "F16", "BF16", "INT8"])
def test_deploy_validates_and_the_simulator_agrees_bit_for_bit(prepared: Path, mode: str) -> None:
    extra = []
    if mode == "INT8":
        assert (
            invoke(calibrate, "tiny.mlir", "--dataset", "samples", "-o", "t.table").exit_code == 0
        )
        extra = ["--calibration_table", "t.table"]
    r = invoke(deploy_command, *deploy_args(mode, "tiny.bmodel", *extra))
    assert r.exit_code == 0, r.output
    prefix = f"tiny_bm1684x_{mode.lower()}" + ("_sym" if mode == "INT8" else "")
    for suffix in ("_tpu.mlir", "_tpu_weights.npz", "_tpu_outputs.npz", "_model_outputs.npz"):
        assert (prepared / f"{prefix}{suffix}").is_file(), suffix
    model = read_bmodel((prepared / "tiny.bmodel").read_bytes())
    assert model.chip == "BM1684X"
    program = load_module(prepared / f"{prefix}_tpu.mlir")
    assert program.metadata["mode"] == mode
    tpu = np.load(prepared / f"{prefix}_tpu_outputs.npz")
    sim = np.load(prepared / f"{prefix}_model_outputs.npz")
    np.testing.assert_array_equal(sim["y_MaxPool"], tpu["y_MaxPool"])
    r = invoke(run, "--model", "tiny.bmodel", "--input", "tiny_in_f32.npz", "--output", "o.npz")
    assert r.exit_code == 0, r.output
    np.testing.assert_array_equal(np.load(prepared / "o.npz")["y_MaxPool"], tpu["y_MaxPool"])


def test_the_same_inputs_give_a_byte_identical_bmodel(prepared: Path) -> None:
    assert invoke(calibrate, "tiny.mlir", "--dataset", "samples", "-o", "t.table").exit_code == 0
    for name in ("a.bmodel", "b.bmodel"):
        r = invoke(deploy_command, *deploy_args("INT8", name, "--calibration_table", "t.table"))
        assert r.exit_code == 0, r.output
    assert (prepared / "a.bmodel").read_bytes() == (prepared / "b.bmodel").read_bytes()


def test_compile_in_one_step_gives_the_stage_commands_bmodel(
    prepared: Path, tiny_onnx: Path
) -> None:
    assert invoke(calibrate, "tiny.mlir", "--dataset", "samples", "-o", "t.table").exit_code == 0
    r = invoke(
        deploy_command, *deploy_args("INT8", "staged.bmodel", "--calibration_table", "t.table")
    )
    assert r.exit_code == 0, r.output
    r = invoke(compile_command, str(tiny_onnx), "--chip", "bm1684x", "--quantize", "INT8",
               "--model_name", "tiny", "--dataset", "samples", "--test_input", "in.npz",
               "-o", "one.bmodel")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (prepared / "one.bmodel").read_bytes() == (prepared / "staged.bmodel").read_bytes()


def test_a_picture_runs_through_a_compiled_model(tiny_onnx: Path, work: Path) -> None:
    import cv2

    picture = work / "p.png"
    cv2.imwrite(str(picture), np.random.default_rng(5).integers(0, 255, (20, 30, 3), np.uint8))
    r = invoke(compile_command, str(tiny_onnx), "--chip", "bm1684x", "--quantize", "F32",
               "--mean", "10,20,30", "--scale", "0.1,0.1,0.1", "-o", "m.bmodel")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = invoke(run, "--model", "m.bmodel", "--input", "p.png", "--output", "o.npz")
    assert r.exit_code == 0, r.output
    r = invoke(transform, "--model_name", "m", "--model_def", str(tiny_onnx), "--mean",
               "10,20,30", "--scale", "0.1,0.1,0.1", "--mlir", "m.mlir")  # fmt: skip
    r = invoke(run, "--model", "m.mlir", "--input", "p.png", "--output", "top.npz")
    assert r.exit_code == 0, r.output
    got, want = np.load(work / "o.npz")["y_MaxPool"], np.load(work / "top.npz")["y_MaxPool"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_a_precision_the_chip_lacks_is_refused_before_anything_runs(prepared: Path) -> None:
    class NoHalfChip(BM1684XBackend):
        target = replace(BM1684X_TARGET, chip="nohalf", precisions=frozenset({"F32", "INT8"}))

    module = load_module(prepared / "tiny.mlir")
    with pytest.raises(
        SophonError, match=r"nohalf does not support --quantize F16; it runs F32, INT8"
    ):
        deploy(module, NoHalfChip(), DeployRequest("F16"), None, None, lambda s: None)


# ---- user errors through the installed console scripts -------------------------------


def script(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def one_line_error(cwd: Path, *cmd: str) -> str:
    proc = subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True, check=False,
                          env={**os.environ})  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    return lines[0]


@pytest.mark.slow
def test_user_errors_are_one_line_and_leave_no_file(
    prepared: Path, make_tiny: Callable[..., Path]
) -> None:
    (prepared / "empty").mkdir()
    (prepared / "empty" / "notes.txt").write_text("no samples here")
    line = one_line_error(prepared, script("run_calibration"), "tiny.mlir", "--dataset", "empty",
                          "-o", "t.table")  # fmt: skip
    assert "holds no calibration samples" in line
    assert not (prepared / "t.table").exists()

    (prepared / "other.table").write_text(
        "# mlir: other.mlir\n# op_name threshold min max\n"
        + "".join(f"/other/t{i} 1.0 -1.0 1.0\n" for i in range(5))
    )
    line = one_line_error(prepared, script("model_deploy"), *deploy_args(
        "INT8", "x.bmodel", "--calibration_table", "other.table"))  # fmt: skip
    assert "does not fit this model" in line and "other.mlir" in line
    assert not (prepared / "x.bmodel").exists()

    (prepared / "bad.bmodel").write_bytes(b"\xee\xaa\x55\xff" + b"\0" * 40)
    line = one_line_error(prepared, script("sophon"), "run", "--model", "bad.bmodel", "--input",
                          "tiny_in_f32.npz", "--output", "o.npz")  # fmt: skip
    assert "bad.bmodel" in line
    assert not (prepared / "o.npz").exists()

    line = one_line_error(prepared, script("model_deploy"), *deploy_args("INT8", "x.bmodel"))
    assert "needs --calibration_table" in line
    line = one_line_error(prepared, script("model_deploy"), *deploy_args("F16", "x.bmodel")[:-2],
                          "--processor", "bm9999", "--model", "x.bmodel")  # fmt: skip
    assert "unknown chip 'bm9999'; installed: bm1684x" in line
    line = one_line_error(prepared, script("model_deploy"), *deploy_args("INT4", "x.bmodel"))
    assert "--quantize 'INT4' is not a mode" in line
    assert not (prepared / "x.bmodel").exists()
