"""Whole tables per calibration method, and the search run again when held-back samples miss.

The method tables are checked against onnxruntime (``max`` is the abs-max of
each tensor over the samples) and against ``sophon calibrate``'s own table
(``kl`` rebuilt here from the same samples gives the same rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from click.testing import CliRunner

from sophonc.calibration.table import CalibrationTable
from sophonc.deploy import DeployRequest, deploy
from sophonc.ir.text import load_module
from sophonc.npzfile import read_npz, write_npz
from sophonc.plugins.registry import load_backend
from sophonc.quantize.qtable import read_qtable
from sophonc_quant_mixed.cli import qtable_command
from sophonc_quant_mixed.layers import Layer
from sophonc_quant_mixed.similarity import tensor_cosine
from sophonc_quant_mixed.trials import TrialResult
from sophonc_quant_mixed.whole_tables import method_tables, pick_whole_table

#: The samples ``m_cali_table`` was calibrated on (conftest.prepare).
CALIBRATED = 6
#: Held-back inputs this many times wider than the calibration samples saturate INT8.
WIDE = 4.0


def calibration_inputs(folder: Path) -> list[dict[str, np.ndarray]]:
    return [read_npz(p) for p in sorted((folder / "samples").glob("*.npz"))[:CALIBRATED]]


def test_each_method_table_follows_its_method(hostile: Path) -> None:
    module = load_module(hostile / "m.mlir")
    given = CalibrationTable.read(hostile / "m_cali_table")
    inputs = calibration_inputs(hostile)
    tables = method_tables(module, given, inputs)
    assert sorted(tables) == [
        "kl", "max", "mse", "mse+tune", "percentile9999", "percentile9999+tune"
    ]  # fmt: skip
    session = ort.InferenceSession(str(hostile / "m.onnx"), providers=["CPUExecutionProvider"])
    heads = [session.run(None, {"x": x["x"]}) for x in inputs]
    head_max = max(float(np.abs(np.concatenate(h, axis=1)).max()) for h in heads)
    input_max = max(float(np.abs(x["x"]).max()) for x in inputs)
    assert tables["max"]["x"].threshold == pytest.approx(input_max, rel=1e-6)
    assert tables["max"]["h_Conv"].threshold == pytest.approx(head_max, rel=1e-5)
    for name in given:  # the given table is kl on the same samples without the tune step
        assert tables["kl"][name].threshold == pytest.approx(given[name].threshold, rel=1e-6)
        ceiling = tables["max"][name].threshold * (1 + 1e-6)
        for method in ("percentile9999", "mse"):
            assert tables[method][name].threshold <= ceiling
            # the tune step only widens, up to the abs-max
            tuned = tables[f"{method}+tune"][name].threshold
            assert tables[method][name].threshold <= tuned <= ceiling


class FixedTrials:
    """An all-INT8 verdict per table, from a fixed list."""

    def __init__(self, cosine: float) -> None:
        self.cosine = cosine

    def run(self, layers: Collection[Layer], *, complete: bool = False) -> TrialResult:
        return TrialResult(False, self.cosine, 4, True)


def test_the_best_whole_table_wins_and_the_given_one_keeps_ties() -> None:
    given = CalibrationTable({})
    tables = {m: CalibrationTable({}) for m in ("kl", "max", "percentile9999", "mse")}
    scores = {id(tables["kl"]): 0.95, id(tables["max"]): 0.97,
              id(tables["percentile9999"]): 0.97, id(tables["mse"]): 0.96}  # fmt: skip

    def make_trials(table: CalibrationTable) -> FixedTrials:
        return FixedTrials(scores[id(table)])

    best = pick_whole_table(tables, given, 0.96, make_trials)  # type: ignore[arg-type]
    assert (best.method, best.cosine, best.table) == ("max", 0.97, tables["max"])
    assert best.cosines == {"kl": 0.95, "max": 0.97, "percentile9999": 0.97, "mse": 0.96}
    assert best.programs_run == 4
    kept = pick_whole_table(tables, given, 0.97, make_trials)  # type: ignore[arg-type]
    assert (kept.method, kept.table) == (None, given)


@pytest.fixture
def wide_list(benign: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data list: the calibration samples, then samples WIDE times wider (held back)."""
    monkeypatch.chdir(benign)
    rng = np.random.default_rng(99)
    lines = sorted(str(p) for p in (benign / "samples").glob("*.npz"))[:CALIBRATED]
    for i in range(CALIBRATED):
        path = benign / f"wide{i}.npz"
        write_npz(path, {"x": (rng.normal(size=(1, 3, 16, 16)) * WIDE).astype(np.float32)})
        lines.append(str(path))
    listing = benign / "wide_list.txt"
    listing.write_text("\n".join(lines) + "\n")
    return listing


def test_a_choice_missing_on_held_back_samples_is_searched_again_on_all(
    benign: Path, wide_list: Path, in_folder: Callable[[Path], Path]
) -> None:
    args = ["m.mlir", "--data_list", str(wide_list), "--input_num", str(CALIBRATED),
            "--calibration_table", "m_cali_table", "--chip", "bm1684x", "-o", "qw"]  # fmt: skip
    r = CliRunner().invoke(qtable_command, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    held = re.search(r"held-back check on 6 samples: all-INT8 \S+, chosen ([0-9.]+)", r.output)
    assert held is not None and float(held.group(1)) < 0.99, r.output
    assert "searched again for a choice that reaches it on both sets" in r.output
    final = re.search(
        r"-> output cosine ([0-9.]+) on both sets \(search ([0-9.]+), held-back ([0-9.]+)",
        r.output,
    )
    assert final is not None, r.output
    assert min(float(final.group(2)), float(final.group(3))) == float(final.group(1)) >= 0.99
    qtable = read_qtable(benign / "qw")
    assert qtable, "the wide samples need float layers"
    # the deployed program reaches the target on the wide samples against onnxruntime
    backend = load_backend("bm1684x")
    request = DeployRequest("INT8", calibration_table=benign / "qw_cali_table",
                            quantize_table=benign / "qw")  # fmt: skip
    module = load_module(benign / "m.mlir")
    outputs = [v.name for v in module.graph.outputs]  # y_big, y_small, in the model's order
    deployed = deploy(module, backend, request, None, None, lambda _: None)
    session = ort.InferenceSession(str(benign / "m.onnx"), providers=["CPUExecutionProvider"])
    cosines = []
    for path in sorted(benign.glob("wide*.npz")):
        feeds = read_npz(path)
        got = backend.run_program(deployed.program, feeds)
        want = session.run(None, {"x": feeds["x"]})
        cosines.append(
            np.mean([tensor_cosine(got[k], w) for k, w in zip(outputs, want, strict=True)])
        )
    assert float(np.mean(cosines)) >= 0.99
