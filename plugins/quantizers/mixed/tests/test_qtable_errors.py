"""Every user error of the search, and the qtable errors deploy catches: one line each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from sophonc.cli.deploy import deploy_command
from sophonc.cli.errors import run_command
from sophonc_quant_mixed.cli import qtable_command

BASE = ["m.mlir", "--dataset", "samples", "--input_num", "6", "--calibration_table",
        "m_cali_table", "--chip", "bm1684x"]  # fmt: skip


def one_error(command: object, args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run a command as its console script does; its single ``error:`` line."""
    with pytest.raises(SystemExit) as stopped:
        run_command(command, args)  # type: ignore[arg-type]
    assert stopped.value.code != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("value", ["0", "-0.5", "1.5"])
def test_expected_cos_outside_zero_one(
    value: str, hostile: Path, in_folder: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    in_folder(hostile)
    line = one_error(qtable_command, [*BASE, "-o", "qx", "--expected_cos", value], capsys)
    assert "--expected_cos" in line and "(0, 1]" in line
    assert not Path("qx").exists()


def test_a_float_type_the_chip_cannot_mix(
    hostile: Path, in_folder: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    in_folder(hostile)
    line = one_error(qtable_command, [*BASE, "-o", "qx", "--fp_type", "BF16"], capsys)
    assert "bm1684x" in line and "BF16" in line and "F16" in line
    assert not Path("qx").exists()


def test_an_unknown_chip(
    hostile: Path, in_folder: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    in_folder(hostile)
    args = [*BASE[:-1], "bm9999", "-o", "qx"]
    assert "bm9999" in one_error(qtable_command, args, capsys)


def test_no_samples_given(
    hostile: Path, in_folder: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    in_folder(hostile)
    args = ["m.mlir", "--calibration_table", "m_cali_table", "--chip", "bm1684x", "-o", "qx"]
    assert "--dataset" in one_error(qtable_command, args, capsys)


def deploy_args(qtable: str) -> list[str]:
    return ["--mlir", "m.mlir", "--quantize", "INT8", "--chip", "bm1684x",
            "--calibration_table", "m_cali_table", "--quantize_table", qtable,
            "--model", "bad.bmodel"]  # fmt: skip


def test_deploy_refuses_a_qtable_naming_a_missing_layer(
    hostile: Path, in_folder: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    in_folder(hostile)
    Path("q_missing").write_text("# op_name quantize_mode\nno_such_layer F16\n")
    line = one_error(deploy_command, deploy_args("q_missing"), capsys)
    assert "no_such_layer" in line
    assert not Path("bad.bmodel").exists()


def test_deploy_refuses_a_qtable_mode_the_chip_lacks(
    hostile: Path, in_folder: Callable[[Path], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    in_folder(hostile)
    Path("q_int4").write_text("h_Conv INT4\n")
    line = one_error(deploy_command, deploy_args("q_int4"), capsys)
    assert "INT4" in line and "bm1684x" in line
    assert not Path("bad.bmodel").exists()
