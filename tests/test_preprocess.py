"""Preprocessing against hand-written OpenCV/numpy steps on tiny synthetic pictures.

Every expected tensor is built step by step in the test (offsets and sizes worked
out by hand in the comments) rather than through the code under test.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from sophonc.errors import ShapeError, SophonError
from sophonc.preprocess import PreprocessConfig, is_image_input, load_image

SEED = 1684


@pytest.fixture
def bgr_png(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 5 (high) x 7 (wide) BGR picture of seeded noise, written losslessly."""
    rng = np.random.default_rng(SEED)
    img = rng.integers(0, 256, size=(5, 7, 3), dtype=np.uint8)
    path = tmp_path / "pic.png"
    assert cv2.imwrite(str(path), img)
    return path, img


def test_defaults_are_tpu_mlir_defaults() -> None:
    c = PreprocessConfig()
    assert c.mean == (0.0, 0.0, 0.0)
    assert c.scale == (1.0, 1.0, 1.0)
    assert c.pixel_format == "bgr"
    assert c.channel_format == "nchw"
    assert c.keep_aspect_ratio is False
    assert c.keep_ratio_mode == "letterbox"
    assert c.pad_value == 0
    assert c.pad_type == "center"
    assert c.resize_dims is None


def test_meta_round_trip_resolves_resize_dims_to_net_dims() -> None:
    c = PreprocessConfig(mean=(1.0, 2.0, 3.0), scale=(0.5, 0.25, 2.0), pixel_format="RGB")
    meta = c.resolved([1, 3, 32, 48]).to_meta()
    assert meta["resize_dims"] == (32, 48)
    assert meta["pixel_format"] == "rgb"
    back = PreprocessConfig.from_meta(meta)
    assert back == PreprocessConfig(
        resize_dims=(32, 48), mean=(1.0, 2.0, 3.0), scale=(0.5, 0.25, 2.0), pixel_format="rgb"
    )
    assert PreprocessConfig.from_meta({}) is None


def test_bad_choice_is_one_clear_error() -> None:
    with pytest.raises(SophonError, match="--pixel_format 'yuv'"):
        PreprocessConfig(pixel_format="yuv")


@pytest.mark.parametrize(
    ("shape", "fmt", "expected"),
    [
        ([1, 3, 224, 224], "nchw", True),
        ([1, 4, 8, 8], "nchw", True),
        ([1, 5, 8, 8], "nchw", False),
        ([1, 224, 224, 3], "nhwc", True),
        ([1, 3, 224, 224], "nhwc", False),
        ([3, 224, 224], "nchw", True),
        ([1, 3, 224, 224], "none", False),
        ([1, 10], "nchw", False),
    ],
)
def test_image_input_rule(shape: list[int], fmt: str, expected: bool) -> None:
    assert is_image_input(shape, fmt) is expected


def test_stretch_resize_default_bgr(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, img = bgr_png
    out = load_image(path, PreprocessConfig(), [1, 3, 4, 6])
    resized = cv2.resize(img, (6, 4))  # cv2 takes (W, H)
    expected = resized.transpose(2, 0, 1).astype(np.float32)[None]
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, expected)


def test_rgb_swap_happens_before_mean_and_scale(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, img = bgr_png
    cfg = PreprocessConfig(mean=(10.0, 20.0, 30.0), scale=(0.5, 0.25, 2.0), pixel_format="rgb")
    out = load_image(path, cfg, [1, 3, 4, 6])
    chw = cv2.resize(img, (6, 4)).transpose(2, 0, 1).astype(np.float32)
    r, g, b = chw[2], chw[1], chw[0]
    expected = np.stack([(r - 10.0) * 0.5, (g - 20.0) * 0.25, (b - 30.0) * 2.0])[None]
    np.testing.assert_allclose(out, expected, rtol=0, atol=1e-5)


def test_letterbox_center_offsets(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, img = bgr_png
    cfg = PreprocessConfig(keep_aspect_ratio=True, pad_value=114)
    out = load_image(path, cfg, [1, 3, 10, 10])
    # s = min(10/7, 10/5) = 10/7 -> nw = int(7*10/7) = 10, nh = int(5*10/7) = 7
    # centre: top = (10-7)//2 = 1, left = (10-10)//2 = 0
    inner = cv2.resize(img, (10, 7)).transpose(2, 0, 1).astype(np.float32)
    np.testing.assert_array_equal(out[0, :, 1:8, :], inner)
    assert (out[0, :, 0, :] == 114).all()
    assert (out[0, :, 8:, :] == 114).all()


def test_letterbox_normal_pastes_top_left(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, img = bgr_png
    cfg = PreprocessConfig(keep_aspect_ratio=True, pad_type="normal", pad_value=7)
    out = load_image(path, cfg, [1, 3, 10, 10])
    inner = cv2.resize(img, (10, 7)).transpose(2, 0, 1).astype(np.float32)
    np.testing.assert_array_equal(out[0, :, 0:7, :], inner)
    assert (out[0, :, 7:, :] == 7).all()


def test_short_side_scale_then_centre_crop(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, img = bgr_png
    cfg = PreprocessConfig(keep_aspect_ratio=True, keep_ratio_mode="short_side_scale")
    out = load_image(path, cfg, [1, 3, 4, 3])
    # s = max(3/7, 4/5) = 0.8 -> nw = int(5.6) = 5, nh = int(4.0) = 4
    # crop: top = (4-4)//2 = 0, left = (5-3)//2 = 1
    big = cv2.resize(img, (5, 4))
    expected = big[0:4, 1:4].transpose(2, 0, 1).astype(np.float32)[None]
    np.testing.assert_array_equal(out, expected)


def test_resize_dims_then_centre_crop(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, img = bgr_png
    cfg = PreprocessConfig(resize_dims=(6, 8))
    out = load_image(path, cfg, [1, 3, 3, 5])
    # start = dim//2 - crop//2: rows 6//2 - 3//2 = 2, cols 8//2 - 5//2 = 2
    big = cv2.resize(img, (8, 6)).transpose(2, 0, 1).astype(np.float32)
    np.testing.assert_array_equal(out[0], big[:, 2:5, 2:7])


def test_gray_uses_first_mean_and_scale(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, _img = bgr_png
    cfg = PreprocessConfig(pixel_format="gray", mean=(10.0, 20.0, 30.0), scale=(0.5, 1.0, 1.0))
    out = load_image(path, cfg, [1, 1, 4, 6])
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    expected = (cv2.resize(gray, (6, 4)).astype(np.float32) - 10.0) * 0.5
    np.testing.assert_allclose(out, expected[None, None], atol=1e-5)


def test_nhwc_and_batch_repeat(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, img = bgr_png
    cfg = PreprocessConfig(channel_format="nhwc", pixel_format="rgb")
    out = load_image(path, cfg, [2, 4, 6, 3])
    hwc = cv2.resize(img, (6, 4))[:, :, ::-1].astype(np.float32)
    assert out.shape == (2, 4, 6, 3)
    np.testing.assert_array_equal(out[0], hwc)
    np.testing.assert_array_equal(out[1], hwc)


def test_rgba_reads_alpha(tmp_path: Path) -> None:
    rng = np.random.default_rng(SEED + 1)
    bgra = rng.integers(0, 256, size=(4, 6, 4), dtype=np.uint8)
    path = tmp_path / "alpha.png"
    assert cv2.imwrite(str(path), bgra)
    out = load_image(path, PreprocessConfig(pixel_format="rgba", mean=(0.0,)), [1, 4, 4, 6])
    rgba = bgra[:, :, [2, 1, 0, 3]].transpose(2, 0, 1).astype(np.float32)
    np.testing.assert_array_equal(out[0], rgba)


def test_channel_mismatch_is_shape_error(bgr_png: tuple[Path, np.ndarray]) -> None:
    path, _ = bgr_png
    with pytest.raises(ShapeError, match="pixel_format bgr gives 3 channel"):
        load_image(path, PreprocessConfig(), [1, 1, 4, 6])


def test_unreadable_picture_is_clear(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(SophonError, match="cannot decode"):
        load_image(bad, PreprocessConfig(), [1, 3, 4, 4])
