"""``sophon compare`` through click's test runner (and the npz_tool alias once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from sophonc.cli.compare import compare
from sophonc.errors import SophonError
from sophonc.npzfile import write_npz


@pytest.fixture
def dumps(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    base = {f"/t{i}_Conv": rng.normal(size=(2, 3)).astype(np.float32) for i in range(4)}
    other = {k: v.copy() for k, v in base.items()}
    other["/t3_Conv"] = other["/t3_Conv"] + rng.normal(0, 1, (2, 3)).astype(np.float32)
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    write_npz(a, base)
    write_npz(b, other)
    return a, b


def test_pass_exits_zero(dumps: tuple[Path, Path]) -> None:
    a, _ = dumps
    result = CliRunner().invoke(compare, [str(a), str(a), "-v"])
    assert result.exit_code == 0, result.output
    assert sum(" EQUAL " in ln for ln in result.output.splitlines()) == 4
    assert "PASSED" in result.output


def test_fail_names_the_worst_tensor(dumps: tuple[Path, Path]) -> None:
    a, b = dumps
    result = CliRunner().invoke(compare, [str(a), str(b), "--tolerance", "0.99,0.99"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SophonError)
    assert "'/t3_Conv'" in str(result.exception)
    assert "NOT_SIMILAR" in result.output  # failures are printed without -v


def test_excepts_skip_a_tensor(dumps: tuple[Path, Path]) -> None:
    a, b = dumps
    result = CliRunner().invoke(compare, [str(a), str(b), "--excepts", "/t3_Conv"])
    assert result.exit_code == 0, result.output
    assert "3 tensors compared" in result.output


def test_missing_file_is_clear(tmp_path: Path) -> None:
    result = CliRunner().invoke(compare, [str(tmp_path / "x.npz"), str(tmp_path / "y.npz")])
    assert result.exit_code == 1
    assert "not found" in str(result.exception)


@pytest.mark.slow
def test_npz_tool_alias(dumps: tuple[Path, Path]) -> None:
    a, b = dumps
    script = Path(sys.executable).parent / "npz_tool"
    ok = subprocess.run([str(script), "compare", str(a), str(a)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    bad = subprocess.run(
        [str(script), "compare", str(a), str(b), "--tolerance", "0.99,0.99", "-v"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert [ln for ln in bad.stderr.splitlines() if ln.startswith("error:")]
    assert "Traceback" not in bad.stderr
