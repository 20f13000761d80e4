"""Sample selection: TPU-MLIR's sorted-then-shuffled(1684) order, data lists and errors."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from sophonc.calibration.dataset import read_data_list, sample_kind, select_dataset
from sophonc.errors import SophonError


@pytest.fixture
def global_random() -> Iterator[None]:
    """Let a test seed the global ``random`` as TPU-MLIR does, then restore it."""
    state = random.getstate()
    yield
    random.setstate(state)


def make_files(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


IMAGES = [f"img_{i:02d}.jpg" for i in range(17)] + [
    "sub/a.PNG",
    "sub/deeper/b.JPEG",
    "c.bmp",
    "d.jfif",
    "e.Jpg",
]


def tpu_mlir_order(root: Path) -> list[str]:
    """What TPU-MLIR's DataSelector does, with the global random module."""
    names = [
        str(path)
        for path in root.glob("**/*")
        if str(path).lower().split(".")[-1] in ("jpg", "bmp", "png", "jpeg", "jfif")
    ]
    names = sorted(names)
    random.seed(1684)
    random.shuffle(names)
    return names


def test_order_is_tpu_mlir_shuffle(tmp_path: Path, global_random: None) -> None:
    make_files(tmp_path, [*IMAGES, "notes.txt", "labels.csv", "sub/README"])
    expected = tpu_mlir_order(tmp_path)
    assert len(expected) == len(IMAGES)
    assert [str(p) for p in select_dataset(tmp_path)] == expected
    assert [str(p) for p in select_dataset(tmp_path, 5)] == expected[:5]
    assert [str(p) for p in select_dataset(tmp_path, 0)] == expected
    assert [str(p) for p in select_dataset(tmp_path, 1000)] == expected
    assert expected != sorted(expected)


def test_private_generator_equals_global_seeding(global_random: None) -> None:
    items = list(range(50))
    private = list(items)
    random.Random(1684).shuffle(private)
    shared = list(items)
    random.seed(1684)
    random.shuffle(shared)
    assert private == shared


def test_selection_leaves_global_random_alone(tmp_path: Path, global_random: None) -> None:
    make_files(tmp_path, IMAGES)
    random.seed(99)
    state = random.getstate()
    select_dataset(tmp_path)
    assert random.getstate() == state


def test_kinds() -> None:
    assert sample_kind("a/B.JPG") == "image"
    assert sample_kind("x.Npz") == "npz"
    assert sample_kind("x.npy") == "npy"
    assert sample_kind("x.yuv") == "yuv"
    assert sample_kind("x.gif") is None
    assert sample_kind("v1.0/img") is None  # TPU-MLIR reads the text after the last dot


def test_empty_folder_names_folder_and_kinds(tmp_path: Path) -> None:
    make_files(tmp_path, ["notes.txt"])
    with pytest.raises(SophonError) as error:
        select_dataset(tmp_path)
    message = str(error.value)
    assert str(tmp_path) in message and ".jpg" in message and ".npz" in message
    with pytest.raises(SophonError, match="does not exist"):
        select_dataset(tmp_path / "missing")


def test_mixed_kinds_are_an_error(tmp_path: Path) -> None:
    make_files(tmp_path, ["a.jpg", "b.npy", "c.jpg"])
    with pytest.raises(SophonError, match="mixes sample kinds"):
        select_dataset(tmp_path)


def test_negative_count(tmp_path: Path) -> None:
    make_files(tmp_path, ["a.jpg"])
    with pytest.raises(SophonError, match="input_num"):
        select_dataset(tmp_path, -1)


def test_data_list(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("a.npy, b.npy\n\n c.npy,d.npy \ne.npy,f.npy\n")
    assert read_data_list(listing) == [
        (Path("a.npy"), Path("b.npy")),
        (Path("c.npy"), Path("d.npy")),
        (Path("e.npy"), Path("f.npy")),
    ]
    assert read_data_list(listing, 2) == [
        (Path("a.npy"), Path("b.npy")),
        (Path("c.npy"), Path("d.npy")),
    ]
    npz = tmp_path / "npz.txt"
    npz.write_text("one.npz\ntwo.npz\n")
    assert read_data_list(npz) == [(Path("one.npz"),), (Path("two.npz"),)]


def test_data_list_errors(tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text("a.jpg\nb.gif\n")
    with pytest.raises(SophonError, match=r"line 2: 'b.gif'"):
        read_data_list(listing)
    assert read_data_list(listing, 1) == [(Path("a.jpg"),)]  # only the lines used are checked
    listing.write_text("a.jpg\nb.npy\n")
    with pytest.raises(SophonError, match="mixes sample kinds"):
        read_data_list(listing)
    listing.write_text("\n\n")
    with pytest.raises(SophonError, match="names no samples"):
        read_data_list(listing)
    with pytest.raises(SophonError, match="not found"):
        read_data_list(tmp_path / "missing.txt")
