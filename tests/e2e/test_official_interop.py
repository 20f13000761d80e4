"""The official TPU-MLIR beside ours: its model_deploy accepts our calibration
table, our deploy accepts its table, its model_tool reads our bmodel.

Needs the official toolchain (docs/official-toolchain.md explains the
install): the environment variable SOPHON_TPU_MLIR_VENV names its venv. Without
it these tests skip with that reason.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from onnx import helper

from onnx_graphs import save_single_input_model
from sophonc.cli.calibrate import calibrate
from sophonc.cli.deploy import deploy_command
from sophonc.cli.transform import transform
from sophonc.compare import cosine_similarity
from sophonc.npzfile import write_npz

pytestmark = pytest.mark.slow

VENV = "SOPHON_TPU_MLIR_VENV"
SEED = 8


def official_bin() -> Path:
    venv = os.environ.get(VENV)
    if not venv:
        pytest.skip(f"{VENV} is not set (it names the official TPU-MLIR venv)")
    return Path(venv) / "bin"


def official(tool: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = official_bin()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(bin_dir / tool), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, check=False)  # fmt: skip


def fused_model(path: Path) -> Path:
    """Conv+BN, HardSwish written out, a scale and shift, Conv+Relu, pool, Gemm."""
    rng = np.random.default_rng(SEED)
    f = np.float32
    inits = {
        "w1": rng.normal(0, 0.3, (8, 3, 3, 3)).astype(f), "g": rng.uniform(0.5, 1.5, 8).astype(f),
        "b": rng.normal(0, 0.2, 8).astype(f), "m": rng.normal(0, 0.2, 8).astype(f),
        "v": rng.uniform(0.5, 1.5, 8).astype(f), "three": f(3), "zero": f(0), "six": f(6),
        "s": rng.uniform(0.5, 2, (1, 8, 1, 1)).astype(f), "t": f(0.5),
        "w2": rng.normal(0, 0.2, (8, 8, 3, 3)).astype(f), "b2": rng.normal(0, 0.1, 8).astype(f),
        "fc": rng.normal(0, 0.3, (5, 8)).astype(f), "fcb": rng.normal(0, 0.1, 5).astype(f),
    }  # fmt: skip
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "g", "b", "m", "v"], ["bn"]),
        helper.make_node("Add", ["bn", "three"], ["a3"]),
        helper.make_node("Clip", ["a3", "zero", "six"], ["r6"]),
        helper.make_node("Mul", ["bn", "r6"], ["xm"]),
        helper.make_node("Div", ["xm", "six"], ["hs"]),
        helper.make_node("Mul", ["hs", "s"], ["sc"]),
        helper.make_node("Add", ["sc", "t"], ["sh"]),
        helper.make_node("Conv", ["sh", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c2"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["fl"]),
        helper.make_node("Gemm", ["fl", "fc", "fcb"], ["y"], transB=1),
    ]
    return save_single_input_model(path, nodes, inits, [1, 3, 16, 16], {"y": [1, 5]})


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    official_bin()
    folder = tmp_path_factory.mktemp("interop")
    model = fused_model(folder / "fused.onnx")
    rng = np.random.default_rng(SEED + 1)
    (folder / "data").mkdir()
    for i in range(6):
        write_npz(
            folder / "data" / f"s{i}.npz", {"x": rng.normal(size=(1, 3, 16, 16)).astype(np.float32)}
        )
    write_npz(folder / "in.npz", {"x": rng.normal(size=(1, 3, 16, 16)).astype(np.float32)})
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(folder)
        r = CliRunner().invoke(
            transform,
            [
                "--model_name",
                "fused",
                "--model_def",
                str(model),
                "--test_input",
                "in.npz",
                "--mlir",
                "ours.mlir",
            ],
        )
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(calibrate, ["ours.mlir", "--dataset", "data", "-o", "ours_table"])
        assert r.exit_code == 0, r.output
    # Another model name: both tools name the weight file <model>_top_f32_all_weight.npz.
    p = official("model_transform", "--model_name", "official", "--model_def", str(model),
                 "--test_input", "in.npz", "--test_result", "official_top.npz",
                 "--mlir", "official.mlir", cwd=folder)  # fmt: skip
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    p = official("run_calibration", "official.mlir", "--dataset", "data", "-o",
                 "official_table", cwd=folder)  # fmt: skip
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    return folder


def test_official_model_deploy_accepts_our_table(work: Path) -> None:
    args = ["--mlir", "official.mlir", "--quantize", "INT8", "--calibration_table", "ours_table",
            "--processor", "bm1684x", "--test_input", "official_in_f32.npz",
            "--test_reference", "official_top.npz", "--tolerance", "0.9,0.5",
            "--model", "official_with_ours.bmodel"]  # fmt: skip
    p = official("model_deploy", *args, cwd=work)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    assert (work / "official_with_ours.bmodel").stat().st_size > 0


def test_our_deploy_accepts_the_official_table(work: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        r = CliRunner().invoke(deploy_command, [
            "--mlir", "ours.mlir", "--quantize", "INT8", "--processor", "bm1684x",
            "--calibration_table", "official_table", "--test_input", "fused_in_f32.npz",
            "--tolerance", "0.9,0.5", "--model", "ours_with_official.bmodel",
        ])  # fmt: skip
    assert r.exit_code == 0, r.output
    tpu = np.load(work / "fused_bm1684x_int8_sym_tpu_outputs.npz")
    top = np.load(work / "fused_top_outputs.npz")
    assert cosine_similarity(np.asarray(tpu["y_Gemm"], np.float64),
                             np.asarray(top["y_Gemm"], np.float64)) >= 0.95  # fmt: skip
    program = (work / "fused_bm1684x_int8_sym_tpu.mlir").read_text()
    assert "FloatOp" not in program  # every tensor found its row


def test_official_model_tool_reads_our_deployed_bmodel(work: Path) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        r = CliRunner().invoke(deploy_command, [
            "--mlir", "ours.mlir", "--quantize", "INT8", "--processor", "bm1684x",
            "--calibration_table", "ours_table", "--model", "ours.bmodel",
        ])  # fmt: skip
    assert r.exit_code == 0, r.output
    p = official("model_tool", "--info", "ours.bmodel", cwd=work)
    assert p.returncode == 0, p.stderr
    assert "chip: BM1684X" in p.stdout
    assert "input: x, [1, 3, 16, 16], float32" in p.stdout
    assert "output: y_Gemm, [1, 5], float32" in p.stdout
