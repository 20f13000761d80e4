"""``model_deploy --asymmetric`` and ``sophon compile --asymmetric`` end to end."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner, Result

from sophonc.calibration.table import CalibrationTable
from sophonc.cli.calibrate import calibrate
from sophonc.cli.compile import compile_command
from sophonc.cli.deploy import deploy_command
from sophonc.cli.transform import transform
from sophonc.compare import cosine_similarity
from sophonc.deploy import DeployRequest, deploy
from sophonc.errors import SophonError
from sophonc.ir.text import load_module
from sophonc.npzfile import write_npz
from sophonc_backend_bm1684x.backend import BM1684XBackend
from sophonc_backend_bm1684x.target import BM1684X_TARGET

SEED = 29


def invoke(command: object, *args: str) -> Result:
    return CliRunner().invoke(command, list(args))  # type: ignore[arg-type]


@pytest.fixture
def prepared(skewed_onnx: Path, work: Path) -> Path:
    """The model transformed and calibrated on 6 seeded samples, plus a test input."""
    rng = np.random.default_rng(SEED)
    (work / "samples").mkdir()
    for i in range(6):
        sample = rng.normal(0.5, 1.0, (1, 3, 8, 8)).astype(np.float32)
        write_npz(work / "samples" / f"s{i}.npz", {"x": sample})
    write_npz(work / "in.npz", {"x": rng.normal(0.5, 1.0, (1, 3, 8, 8)).astype(np.float32)})
    r = invoke(transform, "--model_name", "skewed", "--model_def", str(skewed_onnx),
               "--mlir", "skewed.mlir", "--test_input", "in.npz")  # fmt: skip
    assert r.exit_code == 0, r.output
    r = invoke(calibrate, "skewed.mlir", "--dataset", "samples", "-o", "table")
    assert r.exit_code == 0, r.output
    return work


def deploy_args(model: str, *extra: str) -> list[str]:
    return ["--mlir", "skewed.mlir", "--quantize", "INT8", "--processor", "bm1684x",
            "--calibration_table", "table", "--test_input", "skewed_in_f32.npz",
            "--model", model, *extra]  # fmt: skip


def test_deploy_asymmetric_writes_the_asym_files_and_validates(prepared: Path) -> None:
    r = invoke(deploy_command, *deploy_args("asym.bmodel", "--asymmetric"))
    assert r.exit_code == 0, r.output
    prefix = "skewed_bm1684x_int8_asym"
    for suffix in ("_tpu.mlir", "_tpu_weights.npz", "_tpu_outputs.npz", "_model_outputs.npz"):
        assert (prepared / f"{prefix}{suffix}").is_file(), suffix
    program = load_module(prepared / f"{prefix}_tpu.mlir")
    zero_points = {v.quant.zero_point[0] for v in program.graph.values().values() if v.quant}
    assert zero_points - {0}, "an asymmetric program with every zero point 0"
    tpu = np.load(prepared / f"{prefix}_tpu_outputs.npz")
    sim = np.load(prepared / f"{prefix}_model_outputs.npz")
    top = np.load(prepared / "skewed_top_outputs.npz")
    np.testing.assert_array_equal(sim["y_Conv"], tpu["y_Conv"])
    assert cosine_similarity(tpu["y_Conv"], top["y_Conv"]) >= 0.99


def test_compile_asymmetric_gives_the_staged_bmodel(prepared: Path, skewed_onnx: Path) -> None:
    r = invoke(deploy_command, *deploy_args("staged.bmodel", "--asymmetric"))
    assert r.exit_code == 0, r.output
    r = invoke(compile_command, str(skewed_onnx), "--chip", "bm1684x", "--quantize", "INT8",
               "--model_name", "skewed", "--dataset", "samples", "--test_input", "in.npz",
               "--asymmetric", "-o", "one.bmodel")  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (prepared / "one.bmodel").read_bytes() == (prepared / "staged.bmodel").read_bytes()
    assert (prepared / "sym.bmodel").is_file() is False
    # The symmetric deploy of the same table: y_Conv lies in [0.60, 2.79]; both
    # schemes cover it (kl no longer clips a tensor bounded away from zero at its
    # minimum), the zero-point type with finer steps.
    r = invoke(deploy_command, *deploy_args("sym.bmodel", "--tolerance", "0.5,0"))
    assert r.exit_code == 0, r.output
    assert (prepared / "sym.bmodel").read_bytes() != (prepared / "one.bmodel").read_bytes()
    top = np.load(prepared / "skewed_top_outputs.npz")["y_Conv"].astype(np.float64)
    cosines = {
        scheme: cosine_similarity(
            np.load(prepared / f"skewed_bm1684x_int8_{scheme}_tpu_outputs.npz")["y_Conv"], top
        )
        for scheme in ("sym", "asym")
    }
    assert cosines["asym"] > 0.9999
    assert cosines["sym"] > 0.999


def test_a_chip_without_the_scheme_refuses_asymmetric(prepared: Path) -> None:
    class SymmetricOnly(BM1684XBackend):
        target = replace(BM1684X_TARGET, chip="symonly", quant_schemes=frozenset({"symmetric"}))

    module = load_module(prepared / "skewed.mlir")
    request = DeployRequest("INT8", table=CalibrationTable.read(prepared / "table"),
                            asymmetric=True)  # fmt: skip
    with pytest.raises(SophonError, match="symonly does not support --asymmetric"):
        deploy(module, SymmetricOnly(), request, None, None, lambda _: None)
