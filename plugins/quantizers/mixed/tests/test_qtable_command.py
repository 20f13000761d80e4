"""``sophon qtable`` end to end on the small seeded models of conftest.py."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from sophonc.calibration.table import CalibrationTable
from sophonc.cli.deploy import deploy_command
from sophonc.quantize.qtable import read_qtable
from sophonc_quant_mixed.cli import qtable_command

BASE = ["m.mlir", "--dataset", "samples", "--input_num", "6", "--calibration_table",
        "m_cali_table", "--chip", "bm1684x"]  # fmt: skip
LOSS_LINE = re.compile(r"^No\.(\d+) : Layer: (\S+) Cos: ([0-9.]+) Type: (\S+) Harm: ([0-9.]+) ")


def qtable(*extra: str) -> Result:
    return CliRunner().invoke(qtable_command, [*BASE, *extra], catch_exceptions=False)


def test_the_hostile_layer_is_ranked_first_and_is_the_only_float_one(
    hostile: Path, in_folder: Callable[[Path], Path]
) -> None:
    in_folder(hostile)
    r = qtable("-o", "q1")
    assert r.exit_code == 0, r.output
    table = read_qtable(Path("q1"))
    assert table == {"h_Conv": "F16", "y_big_Split": "F16"}  # the Split follows its producer
    first = (hostile / "q1_loss.txt").read_text().splitlines()[4]
    assert LOSS_LINE.match(first) and " Layer: h_Conv " in first
    cosines = [float(x) for x in re.findall(r"-> output cosine ([0-9.]+)", r.output)]
    assert cosines and cosines[0] >= 0.99
    held = re.search(
        r"held-back check on 6 samples: all-INT8 ([0-9.]+), chosen ([0-9.]+)", r.output
    )
    assert held is not None
    assert float(held.group(1)) < 0.99 <= float(held.group(2))
    assert "chosen: 1 float layer (F16; 2 qtable lines with 1 data-movement op" in r.output


def test_the_search_is_deterministic(hostile: Path, in_folder: Callable[[Path], Path]) -> None:
    in_folder(hostile)
    assert qtable("-o", "qa").exit_code == 0
    assert qtable("-o", "qb").exit_code == 0
    first = Path("qa").read_text().replace("qa_cali_table", "<table>")
    assert first == Path("qb").read_text().replace("qb_cali_table", "<table>")
    assert Path("qa_loss.txt").read_bytes() == Path("qb_loss.txt").read_bytes()


def test_the_loss_file_lists_every_layer_most_harmful_first(
    hostile: Path, in_folder: Callable[[Path], Path]
) -> None:
    in_folder(hostile)
    assert qtable("-o", "ql").exit_code == 0
    lines = [ln for ln in Path("ql_loss.txt").read_text().splitlines() if not ln.startswith("#")]
    found = [LOSS_LINE.match(ln) for ln in lines]
    assert all(found)
    rows = [(int(m.group(1)), m.group(2), float(m.group(3)), float(m.group(5))) for m in found if m]
    assert [r[0] for r in rows] == list(range(len(rows)))
    assert sorted(r[1] for r in rows) == ["h_Conv", "ra_Relu", "rb_Relu"]  # the Split is no layer
    assert [r[2] for r in rows] == sorted(r[2] for r in rows)
    assert all(abs(cos + harm - 1.0) < 1e-7 for _, _, cos, harm in rows)


def test_deploy_accepts_the_qtable_and_the_improved_table(
    hostile: Path, in_folder: Callable[[Path], Path]
) -> None:
    in_folder(hostile)
    assert qtable("-o", "qd").exit_code == 0
    table = CalibrationTable.read(hostile / "qd_cali_table")
    assert "h_Conv" in table
    r = CliRunner().invoke(
        deploy_command,
        ["--mlir", "m.mlir", "--quantize", "INT8", "--chip", "bm1684x", "--calibration_table",
         "qd_cali_table", "--quantize_table", "qd", "--test_input", "samples/s00.npz",
         "--model", "m_mixed.bmodel"],
        catch_exceptions=False,
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert (hostile / "m_mixed.bmodel").stat().st_size > 0


def test_all_int8_reaching_the_target_exits_early_with_an_empty_qtable(
    benign: Path, in_folder: Callable[[Path], Path]
) -> None:
    in_folder(benign)
    r = qtable("-o", "qe")
    assert r.exit_code == 0, r.output
    assert "already reaches expected_cos" in r.output
    assert read_qtable(Path("qe")) == {}
    assert not Path("qe_loss.txt").exists()
    assert not Path("qe_cali_table").exists()


def test_a_strict_target_tries_other_thresholds_and_writes_them(
    benign: Path, in_folder: Callable[[Path], Path]
) -> None:
    in_folder(benign)
    r = qtable("-o", "qs", "--expected_cos", "0.99999")
    assert r.exit_code == 0, r.output
    given = CalibrationTable.read(benign / "m_cali_table")
    improved = CalibrationTable.read(benign / "qs_cali_table")
    whole = re.search(r"going on with (\S+)", r.output)
    assert whole is not None, r.output
    changed = re.findall(r"^  (\S+): \S+ -> (\S+) ", r.output, flags=re.MULTILINE)
    if whole.group(1) == "the":  # the given table stayed: only per-layer changes
        assert changed, r.output
        for tensor, _method in changed:
            assert improved[tensor].threshold != pytest.approx(given[tensor].threshold)
        unchanged = set(given) - {t for t, _ in changed}
        assert all(improved[n] == given[n] for n in unchanged)
    else:  # a whole table won: most rows moved
        moved = [n for n in given if improved[n].threshold != pytest.approx(given[n].threshold)]
        assert len(moved) >= len(given) // 2
        assert (
            f"# quantization threshold calculation method: {whole.group(1)}"
            in (benign / "qs_cali_table").read_text()
        )


def test_max_float_layers_zero_keeps_every_layer_int8(
    hostile: Path, in_folder: Callable[[Path], Path]
) -> None:
    in_folder(hostile)
    r = CliRunner().invoke(qtable_command, [*BASE, "-o", "qz", "--max_float_layers", "0"])
    assert r.exit_code == 0, r.output
    assert read_qtable(Path("qz")) == {}
    assert "not reached" in r.output


def test_a_data_list_an_explicit_float_type_and_no_held_back_samples(
    hostile: Path, in_folder: Callable[[Path], Path]
) -> None:
    in_folder(hostile)
    files = sorted(str(p) for p in (hostile / "samples").glob("*.npz"))
    Path("list.txt").write_text("\n".join(files) + "\n")
    args = ["m.mlir", "--data_list", "list.txt", "--input_num", "5", "--verify_num", "0",
            "--calibration_table", "m_cali_table", "--processor", "bm1684x", "--fp_type", "F32",
            "-o", "qf"]  # fmt: skip
    r = CliRunner().invoke(qtable_command, args, catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert read_qtable(Path("qf")) == {"h_Conv": "F32", "y_big_Split": "F32"}
    assert "no samples left beyond --input_num" in r.output
    assert "# sample number: 5" in Path("qf").read_text()
