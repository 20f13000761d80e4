"""The calibration table file: exact format, round trip, TPU-MLIR's own files, errors."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.table_entry import ScaleLine, TableEntry
from sophonc.errors import SophonError

STAMP = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901)
WRITE_ARGS = {
    "mlir_file": "resnet18.mlir",
    "method": "kl",
    "histogram_bins": 2048,
    "sample_count": 100,
    "tune_count": 5,
    "version": "0.1.0",
    "generated": STAMP,
}

TPU_MLIR_TABLE = """\
# mlir version: v1.30.2-gecc9dd6-20260831 cali version 1.0
# mlir: resnet18.mlir
# genetated time: 2026-01-02 03:04:05.678901
# quantization threshold calculation method: ['kl']
# histogram number: 2048
# sample number: 100
###
# tune number: 5
###
# op_name    threshold    min    max
input 2.6400001 -2.1179039 2.6400001
conv1_Conv 10.1234567 -9.8765432 11.0000000
relu_Relu 5.0000000 0.0000000 7.5000000

#int4_th
input 2.6400001 -3.0171430 2.6400001
conv1_Conv 8.0000000 -9.1428571 8.0000000
#weight_scale
conv1_Conv_weight 3 0.0123 0.0456 1e-05 3 0 0 0
fc_Gemm_weight 2 0.5 0.25
"""


def sample_table() -> CalibrationTable:
    table = CalibrationTable()
    table["input"] = TableEntry(2.64, -2.1179039, 2.64)
    table["conv1_Conv"] = TableEntry(10.123456789, -9.87654321, 11.0)
    table["relu_Relu"] = TableEntry(1e-5, 0.0, 1e-5)
    return table


def test_header_is_tpu_mlir_format_line_by_line(tmp_path: Path) -> None:
    path = tmp_path / "cali_table"
    sample_table().write(path, **WRITE_ARGS)  # type: ignore[arg-type]
    lines = path.read_text().split("\n")
    assert lines == [
        "# mlir version: 0.1.0 cali version 1.0",
        "# mlir: resnet18.mlir",
        "# genetated time: 2026-01-02 03:04:05.678901",
        "# quantization threshold calculation method: kl",
        "# histogram number: 2048",
        "# sample number: 100",
        "###",
        "# tune number: 5",
        "###",
        "# op_name    threshold    min    max",
        "input 2.6400000 -2.1179039 2.6400000",
        "conv1_Conv 10.1234568 -9.8765432 11.0000000",
        "relu_Relu 0.0000100 0.0000000 0.0000100",
        "",
    ]


def test_round_trip(tmp_path: Path) -> None:
    table = sample_table()
    table.int4_entries["input"] = TableEntry(2.0, -2.0 * 8 / 7, 2.0)
    table.weight_scales["conv1_Conv_weight"] = ScaleLine.from_scales([0.125, 3e-7])
    table.asym_ops += ["silu_SiLU", "conv2_Conv"]
    table.symmetric_ops.append("add_Add")
    path = tmp_path / "t.cali"
    table.write(path, **WRITE_ARGS)  # type: ignore[arg-type]
    again = CalibrationTable.read(path)
    assert list(again) == ["input", "conv1_Conv", "relu_Relu"]
    for name, entry in table.items():
        assert again[name] == pytest.approx(tuple(entry), abs=5e-8)
    assert again.int4_entries["input"] == pytest.approx((2.0, -2.2857143, 2.0), abs=5e-8)
    assert again.weight_scales["conv1_Conv_weight"].scales == (0.125, 3e-7)
    assert again.asym_ops == ["silu_SiLU", "conv2_Conv"]
    assert again.symmetric_ops == ["add_Add"]
    header = again.header
    assert (header.version, header.mlir_file, header.method) == ("0.1.0", "resnet18.mlir", "kl")
    assert (header.histogram_bins, header.sample_count, header.tune_count) == (2048, 100, 5)
    assert header.generated == "2026-01-02 03:04:05.678901"
    # writing what was read gives the same bytes
    copy = tmp_path / "copy.cali"
    again.write(copy, **WRITE_ARGS)  # type: ignore[arg-type]
    assert copy.read_bytes() == path.read_bytes()


def test_reads_tpu_mlir_table_with_int4_and_weight_scale_blocks(tmp_path: Path) -> None:
    path = tmp_path / "tpu_mlir_cali_table"
    path.write_text(TPU_MLIR_TABLE)
    table = CalibrationTable.read(path)
    assert dict(table) == {
        "input": (2.6400001, -2.1179039, 2.6400001),
        "conv1_Conv": (10.1234567, -9.8765432, 11.0),
        "relu_Relu": (5.0, 0.0, 7.5),
    }
    assert table.int4_entries == {
        "input": (2.6400001, -3.017143, 2.6400001),
        "conv1_Conv": (8.0, -9.1428571, 8.0),
    }
    assert table.weight_scales["conv1_Conv_weight"].scales == (0.0123, 0.0456, 1e-05)
    assert table.weight_scales["conv1_Conv_weight"].tokens[-4:] == ("3", "0", "0", "0")
    assert table.weight_scales["fc_Gemm_weight"].scales == (0.5, 0.25)
    assert table.header.method == "['kl']"
    assert table.header.version == "v1.30.2-gecc9dd6-20260831"


def test_reads_asym_symmetric_qat_lines_and_crlf(tmp_path: Path) -> None:
    text = (
        "# work_mode:QAT_all_int8 #Automatically generated, do not modify\r\n"
        "# op_name    threshold    min    max\r\n"
        "x 1.0000000 -1.0000000 1.0000000\r\n"
        "act 1 0.0078125 1 0\r\n"
        "\r\n"
        "# symmetric_op\r\n"
        "# add_Add\r\n"
        "#asym_op\r\n"
        "silu_SiLU\r\n"
    )
    path = tmp_path / "qat"
    path.write_bytes(text.encode())
    table = CalibrationTable.read(path)
    assert dict(table) == {"x": (1.0, -1.0, 1.0)}
    assert table.activation_scales["act"].scales == (0.0078125,)
    assert table.symmetric_ops == ["add_Add"]
    assert table.asym_ops == ["silu_SiLU"]


def test_malformed_line_names_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bad"
    lines = TPU_MLIR_TABLE.split("\n")
    lines.insert(12, "relu2_Relu 5.0000000 0.0000000")  # becomes line 13
    path.write_text("\n".join(lines))
    with pytest.raises(SophonError) as error:
        CalibrationTable.read(path)
    message = str(error.value)
    assert "line 13" in message and "relu2_Relu 5.0000000 0.0000000" in message
    assert str(path) in message and "\n" not in message


def test_missing_and_empty_tables(tmp_path: Path) -> None:
    with pytest.raises(SophonError, match="not found"):
        CalibrationTable.read(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.write_text("# mlir: x.mlir\n###\n")
    with pytest.raises(SophonError, match="no '<name> <threshold> <min> <max>' lines"):
        CalibrationTable.read(empty)


def test_check_against(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "t"
    path.write_text(TPU_MLIR_TABLE)
    table = CalibrationTable.read(path)
    assert table.check_against(["input", "conv1_Conv", "relu_Relu", "extra"]) == []
    assert table.check_against(["input", "conv1_Conv"]) == ["relu_Relu"]
    assert "relu_Relu" in caplog.text
    with pytest.raises(SophonError) as error:
        table.check_against(["images", "conv1_Conv", "other"])
    message = str(error.value)
    assert "1 of its 3" in message and "input, relu_Relu" in message
    assert "resnet18.mlir" in message and "\n" not in message


def test_write_is_atomic(tmp_path: Path) -> None:
    path = tmp_path / "table"
    path.write_text("old contents\n")
    sample_table().write(path, **WRITE_ARGS)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["table"]
    assert path.read_text().startswith("# mlir version")
    with pytest.raises(SophonError, match="cannot write calibration table"):
        sample_table().write(tmp_path / "missing" / "table", **WRITE_ARGS)  # type: ignore[arg-type]
    assert [p.name for p in tmp_path.iterdir()] == ["table"]
