"""``--test_input`` → input tensors, with TPU-MLIR's rules for npz, pictures and npy."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from sophonc.errors import ShapeError, SophonError
from sophonc.inputs import build_inputs
from sophonc.ir.types import TensorType
from sophonc.ir.value import Value
from sophonc.npzfile import write_npz
from sophonc.preprocess import PreprocessConfig, load_image


def value(name: str, shape: tuple[int, ...], *, image: bool = False) -> Value:
    v = Value(name, TensorType("f32", shape))
    if image:
        v.meta.update(PreprocessConfig(scale=(0.5,)).resolved(shape).to_meta())
    return v


def test_single_array_npz_feeds_the_single_input_and_repeats_batch(tmp_path: Path) -> None:
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    write_npz(tmp_path / "a.npz", {"whatever": x})
    out = build_inputs([tmp_path / "a.npz"], [value("in", (2, 3, 2, 2))])
    assert out["in"].shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(out["in"][1], x[0])


def test_multi_array_npz_by_name(tmp_path: Path) -> None:
    a, b = np.ones((1, 2), np.float32), np.zeros((1, 3), np.float32)
    write_npz(tmp_path / "m.npz", {"b": b, "a": a})
    out = build_inputs([tmp_path / "m.npz"], [value("a", (1, 2)), value("b", (1, 3))])
    assert list(out) == ["a", "b"]
    with pytest.raises(SophonError, match="no array named 'c'"):
        build_inputs([tmp_path / "m.npz"], [value("a", (1, 2)), value("c", (1, 3))])


def test_wrong_shape_names_input_and_shapes(tmp_path: Path) -> None:
    write_npz(tmp_path / "w.npz", {"x": np.zeros((1, 3, 5, 5), np.float32)})
    with pytest.raises(ShapeError, match=r"'x'.*\[1, 3, 5, 5\].*\[1, 3, 4, 4\]"):
        build_inputs([tmp_path / "w.npz"], [value("x", (1, 3, 4, 4))])


def test_pictures_use_each_inputs_config_and_reuse_the_last(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    for name in ("p1.png", "p2.png"):
        cv2.imwrite(str(tmp_path / name), rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
    ins = [value(n, (1, 3, 4, 4), image=True) for n in ("a", "b", "c")]
    out = build_inputs([tmp_path / "p1.png", tmp_path / "p2.png"], ins)
    cfg = PreprocessConfig(scale=(0.5,))
    np.testing.assert_array_equal(out["a"], load_image(tmp_path / "p1.png", cfg, [1, 3, 4, 4]))
    np.testing.assert_array_equal(out["c"], load_image(tmp_path / "p2.png", cfg, [1, 3, 4, 4]))


def test_picture_for_a_non_image_input_is_refused(tmp_path: Path) -> None:
    cv2.imwrite(str(tmp_path / "p.png"), np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(SophonError, match="no image preprocessing"):
        build_inputs([tmp_path / "p.png"], [value("x", (1, 3, 4, 4))])


def test_one_npy_per_input(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.ones((2,), np.float32))
    np.save(tmp_path / "b.npy", np.zeros((3,), np.float32))
    ins = [value("a", (2,)), value("b", (3,))]
    out = build_inputs([tmp_path / "a.npy", tmp_path / "b.npy"], ins)
    assert out["b"].shape == (3,)
    with pytest.raises(SophonError, match=r"one \.npy per input"):
        build_inputs([tmp_path / "a.npy"], ins)


def test_mixed_or_missing_files(tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", np.ones((2,), np.float32))
    (tmp_path / "t.txt").write_text("x")
    with pytest.raises(SophonError, match="not a mix"):
        build_inputs([tmp_path / "a.npy", tmp_path / "t.txt"], [value("a", (2,))])
    with pytest.raises(SophonError, match="not found"):
        build_inputs([tmp_path / "none.npz"], [value("a", (2,))])
