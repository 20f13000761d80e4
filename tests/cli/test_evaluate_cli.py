"""``sophon evaluate`` on the tiny model: one row per mode, measured against onnxruntime."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from click.testing import CliRunner

from sophonc.cli.evaluate import evaluate_command
from sophonc.npzfile import write_npz


def test_every_requested_mode_gets_a_row_measured_against_the_framework(
    tiny_onnx: Path, work: Path
) -> None:
    rng = np.random.default_rng(12)
    (work / "samples").mkdir()
    for i in range(4):
        write_npz(work / "samples" / f"s{i}.npz",
                  {"x": rng.normal(size=(1, 3, 8, 8)).astype(np.float32)})  # fmt: skip
    x = rng.normal(size=(1, 3, 8, 8)).astype(np.float32)
    write_npz(work / "in.npz", {"x": x})
    r = CliRunner().invoke(
        evaluate_command,
        [str(tiny_onnx), "--chip", "bm1684x", "--test_input", "in.npz", "--dataset", "samples",
         "--modes", "F32,BF16,INT8", "--runs", "1"],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    rows = {line.split()[0]: line.split() for line in r.output.splitlines()
            if line.split() and line.split()[0] in ("F32", "BF16", "INT8")}  # fmt: skip
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
