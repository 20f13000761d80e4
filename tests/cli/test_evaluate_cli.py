"""``sophon evaluate`` on the tiny model: one row per mode, measured against onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from sophonc.cli.evaluate import evaluate_command
from sophonc.npzfile import write_npz


def write_samples(work: Path, count: int, seed: int) -> None:
    """``count`` calibration samples in ``samples/`` and a test input ``in.npz``."""
    rng = np.random.default_rng(seed)
    (work / "samples").mkdir()
    for i in range(count):
        write_npz(work / "samples" / f"s{i}.npz",
                  {"x": rng.normal(size=(1, 3, 8, 8)).astype(np.float32)})  # fmt: skip
    write_npz(work / "in.npz", {"x": rng.normal(size=(1, 3, 8, 8)).astype(np.float32)})


def evaluate_rows(model: Path, modes: str, *extra: str) -> dict[str, str]:
    """Run ``sophon evaluate`` on the samples of :func:`write_samples`; mode → table row."""
    r = CliRunner().invoke(
        evaluate_command,
        [str(model), "--chip", "bm1684x", "--test_input", "in.npz", "--dataset", "samples",
         "--modes", modes, "--runs", "1", *extra],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    wanted = modes.split(",")
    return {line.split()[0]: line for line in r.output.splitlines()
            if line.split() and line.split()[0] in wanted}  # fmt: skip


def test_every_requested_mode_gets_a_row_measured_against_the_framework(
    tiny_onnx: Path, work: Path
) -> None:
    write_samples(work, 4, 12)
    rows = {k: v.split() for k, v in evaluate_rows(tiny_onnx, "F32,BF16,INT8").items()}
    assert set(rows) == {"F32", "BF16", "INT8"}
    assert float(rows["F32"][1]) >= 0.999999
    assert 0.99 <= float(rows["INT8"][1]) < 1.0
    assert sorted(p.name for p in work.iterdir()) == ["in.npz", "samples"]  # nothing left


def test_an_unknown_mode_is_one_clear_error(tiny_onnx: Path, work: Path) -> None:
    write_npz(work / "in.npz", {"x": np.zeros((1, 3, 8, 8), np.float32)})
    r = CliRunner().invoke(
        evaluate_command,
        [str(tiny_onnx), "--chip", "bm1684x", "--test_input", "in.npz", "--modes", "F8"],
    )
    assert r.exit_code == 1
    assert "unknown mode 'F8'" in str(r.exception)


def test_a_work_dir_that_is_a_file_is_refused_before_any_work(
    tiny_onnx: Path, work: Path
) -> None:
    write_npz(work / "in.npz", {"x": np.zeros((1, 3, 8, 8), np.float32)})
    (work / "taken").write_text("a file")
    r = CliRunner().invoke(
        evaluate_command,
        [str(tiny_onnx), "--chip", "bm1684x", "--test_input", "in.npz", "--work_dir", "taken"],
    )
    assert r.exit_code == 2
    assert "'taken' is a file" in r.output
    assert sorted(p.name for p in work.iterdir()) == ["in.npz", "taken"]


def test_the_mixed_row_deploys_the_searched_qtable_and_keeps_its_files(
    tiny_onnx: Path, work: Path
) -> None:
    write_samples(work, 6, 13)
    rows = evaluate_rows(
        tiny_onnx, "INT8,mixed", "--expected_cos", "0.99999999", "--work_dir", "kept"
    )
    qtable = (work / "kept" / "qtable").read_text()
    ops = [line for line in qtable.splitlines() if line and not line.startswith("#")]
    assert ops, "a cosine of 0.99999999 needs some float op"
    assert rows["mixed"].endswith(f"{len(ops)} op(s) in float")
    assert float(rows["mixed"].split()[1]) > float(rows["INT8"].split()[1])
