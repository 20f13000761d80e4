"""Drivers by name: real discovery, unknown names, broken plugins, API versions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from sophonc.api import API_VERSION, Frontend, FrontendOptions
from sophonc.errors import ModelLoadError, PluginLoadError, UnknownPluginError
from sophonc.ir.module import Module
from sophonc.plugins.groups import BACKENDS, FRONTENDS, installed, installed_names
from sophonc.plugins.registry import (
    frontend_for_path,
    load_backend,
    load_frontend,
    load_quantizer,
)


class Stub(Frontend):
    name: ClassVar[str] = "stub"
    suffixes: ClassVar[tuple[str, ...]] = (".stub",)

    def load(self, path: Path, options: FrontendOptions) -> Module:
        raise ModelLoadError("stub frontends load nothing")


class FromTheFuture(Stub):
    api_version: ClassVar[int] = API_VERSION + 1


def test_the_onnx_frontend_is_discovered_through_its_entry_point() -> None:
    assert "onnx" in installed_names(FRONTENDS)
    (entry,) = [p for p in installed(FRONTENDS) if p.name == "onnx"]
    assert entry.distribution == "sophonc-frontend-onnx"
    frontend = load_frontend("onnx")
    assert frontend.name == "onnx" and ".onnx" in frontend.suffixes


def test_an_unknown_chip_lists_the_installed_ones() -> None:
    with pytest.raises(UnknownPluginError) as info:
        load_backend("BM9999")
    text = str(info.value)
    assert text.startswith("unknown chip 'bm9999'; installed: ")
    for name in installed_names(BACKENDS):
        assert name in text
    assert "sophonc-backend-bm9999" in text


def test_an_unknown_quantizer_is_named() -> None:
    with pytest.raises(UnknownPluginError, match=r"unknown quantizer 'nope'"):
        load_quantizer("nope")


def test_a_class_may_be_passed_instead_of_a_name() -> None:
    assert isinstance(load_frontend(Stub), Stub)


def test_a_plugin_for_another_api_version_is_refused() -> None:
    with pytest.raises(PluginLoadError, match=rf"targets sophonc API version {API_VERSION + 1}"):
        load_frontend(FromTheFuture)


def test_a_class_of_the_wrong_kind_is_refused() -> None:
    with pytest.raises(PluginLoadError, match=r"not name a subclass of sophonc.api.Backend"):
        load_backend(Stub)  # type: ignore[arg-type]


def test_frontend_by_suffix_and_by_detect_hook(tmp_path: Path) -> None:
    assert frontend_for_path(tmp_path / "m.ONNX").name == "onnx"
    found = frontend_for_path(tmp_path / "m.weird", detect=lambda p: "onnx")
    assert found.name == "onnx"
    with pytest.raises(
        ModelLoadError, match=r"no installed frontend reads 'm.xyz'.*onnx \(.onnx\)"
    ):
        frontend_for_path(tmp_path / "m.xyz", detect=lambda p: None)


def test_listing_plugins_imports_no_plugin_and_no_framework() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from sophonc.cli.main import cli\n"
        "r = CliRunner().invoke(cli, ['plugins'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'onnx ' in r.output, r.output\n"
        "bad = [m for m in ('onnx', 'onnxruntime', 'sophonc_frontend_onnx') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
