"""The samples a search uses and the ones it holds back to check its choice.

Both come from one ``--dataset`` or ``--data_list`` in TPU-MLIR's order: the
first ``--input_num`` drive the search; the next ones (never seen by it) tell
whether the chosen float layers generalise. The inputs are built once, with
the preprocessing the transform recorded, and kept: every phase reruns them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sophonc.api import Arrays
from sophonc.calibration.dataset import read_data_list, select_dataset
from sophonc.errors import SophonError
from sophonc.inputs import build_inputs
from sophonc.ir.module import Module

Sample = tuple[Path, ...]


@dataclass(frozen=True)
class SampleSplit:
    """Search samples, then held-back samples (possibly none)."""

    search: list[Sample]
    held_back: list[Sample]


def split_samples(
    dataset: str | None, data_list: str | None, input_num: int, verify_num: int
) -> SampleSplit:
    """The first ``input_num`` samples for the search, up to ``verify_num`` after them."""
    if (dataset is None) == (data_list is None):
        raise SophonError("give the samples with --dataset DIR or --data_list FILE")
    if input_num < 1:
        raise SophonError(f"--input_num must be 1 or more, got {input_num}")
    if verify_num < 0:
        raise SophonError(f"--verify_num must be 0 or more, got {verify_num}")
    if dataset is not None:
        every: list[Sample] = [(p,) for p in select_dataset(dataset, 0)]
    else:
        assert data_list is not None
        every = read_data_list(data_list, 0)
    search = every[:input_num]
    held_back = every[input_num : input_num + verify_num]
    return SampleSplit(search, held_back)


def load_samples(module: Module, samples: Sequence[Sample]) -> list[Arrays]:
    """Each sample's input tensors, preprocessed as the model's inputs ask."""
    return [build_inputs(list(paths), module.graph.inputs) for paths in samples]
