"""The search's bookkeeping on made-up verdicts: the loss model, the prefix search, pruning."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import pytest

from sophonc.errors import SophonError
from sophonc.ir.graph import Graph
from sophonc.ir.module import Module
from sophonc_backend_bm1684x.target import BM1684X_TARGET
from sophonc_quant_mixed.layers import Layer
from sophonc_quant_mixed.search import LossModel, find_float_layers, rank_layers
from sophonc_quant_mixed.sensitivity import LayerHarm
from sophonc_quant_mixed.settings import check_cosine, resolve_fp_type
from sophonc_quant_mixed.similarity import OutputJudge
from sophonc_quant_mixed.trials import ProgramTrials, TrialResult


def layer(name: str, index: int) -> Layer:
    return Layer(name, "Conv", (name,), index)


class AdditiveTrials:
    """Verdicts from an exact additive model: each layer costs its own loss."""

    def __init__(self, losses: dict[str, float], expected_cos: float) -> None:
        self.losses = losses
        self.expected_cos = expected_cos
        self.programs_run = 0
        self.seen: list[frozenset[str]] = []

    def run(self, layers: Collection[Layer], *, complete: bool = False) -> TrialResult:
        self.programs_run += 1
        floats = {x.name for x in layers}
        self.seen.append(frozenset(floats))
        cos = 1.0 - sum(v for k, v in self.losses.items() if k not in floats)
        return TrialResult(cos >= self.expected_cos, cos, 4, True)


def test_the_loss_model_shares_the_all_int8_loss_by_harm() -> None:
    model = LossModel([0.3, 0.1, 0.1], all_int8_loss=0.05)
    assert model.loss(0) == pytest.approx(0.05)
    assert model.loss(1) == pytest.approx(0.02)
    assert model.count_for(0.021) == 1
    assert model.count_for(0.0) == 3
    model.calibrate(1, 0.04)
    assert model.loss(1) == pytest.approx(0.04)


def test_the_search_finds_the_smallest_passing_set() -> None:
    losses = {f"l{i}": 0.004 / (i + 1) for i in range(12)}
    layers = [layer(n, i) for i, n in enumerate(losses)]
    harms = {n: LayerHarm(harm=v) for n, v in losses.items()}
    trials = AdditiveTrials(losses, 0.995)
    ranked = rank_layers(layers, harms, {})
    outcome = find_float_layers(ranked, harms, trials, 1.0 - sum(losses.values()), None)  # type: ignore[arg-type]
    assert outcome.reached
    left = sum(v for k, v in losses.items() if k not in {x.name for x in outcome.chosen})
    assert 1.0 - left >= 0.995
    # the fewest layers: the most harmful ones, and one fewer would not do
    count = len(outcome.chosen)
    assert [x.name for x in outcome.chosen] == [f"l{i}" for i in range(count)]
    assert 1.0 - sum(list(losses.values())[count - 1 :]) < 0.995
    assert trials.programs_run <= 6


def test_the_search_respects_max_float_layers() -> None:
    losses = {f"l{i}": 0.01 for i in range(5)}
    layers = [layer(n, i) for i, n in enumerate(losses)]
    harms = {n: LayerHarm(harm=v) for n, v in losses.items()}
    trials = AdditiveTrials(losses, 0.99)
    outcome = find_float_layers(layers, harms, trials, 0.95, 2)  # type: ignore[arg-type]
    assert not outcome.reached
    assert len(outcome.chosen) == 2
    assert all(len(s) <= 2 for s in trials.seen)


def test_layers_without_harm_are_never_chosen() -> None:
    losses = {"a": 0.02, "b": 0.0}
    harms = {"a": LayerHarm(harm=0.02), "b": LayerHarm(harm=0.0)}
    layers = [layer("b", 0), layer("a", 1)]
    trials = AdditiveTrials(losses, 0.99)
    ranked = rank_layers(layers, harms, {})
    assert [x.name for x in ranked] == ["a", "b"]
    outcome = find_float_layers(ranked, harms, trials, 0.98, None)  # type: ignore[arg-type]
    assert [x.name for x in outcome.chosen] == ["a"]


def test_ranking_ties_are_broken_by_accumulated_cosine_then_graph_order() -> None:
    layers = [layer("x", 0), layer("y", 1), layer("z", 2)]
    harms = {n: LayerHarm(harm=0.01) for n in "xyz"}
    ranked = rank_layers(layers, harms, {"z": 0.5})
    assert [x.name for x in ranked] == ["z", "x", "y"]


def test_fp_type_and_cosine_checks() -> None:
    assert resolve_fp_type("auto", BM1684X_TARGET) == "F16"
    assert resolve_fp_type("f32", BM1684X_TARGET) == "F32"
    with pytest.raises(SophonError, match="BF16"):
        resolve_fp_type("BF16", BM1684X_TARGET)
    assert check_cosine("expected_cos", 1.0) == 1.0
    with pytest.raises(SophonError, match=r"\(0, 1\]"):
        check_cosine("expected_cos", 0.0)


def test_silent_outputs_match_when_the_quantized_ones_are_silent_too() -> None:
    rng = np.random.default_rng(5)
    loud = {"y": rng.normal(size=(4, 8)).astype(np.float32)}
    quiet = {"y": (rng.normal(size=(4, 8)) * 1e-7).astype(np.float32)}
    judge = OutputJudge(["y"], [loud, quiet])
    assert judge.silent(quiet) and not judge.silent(loud)
    zeros = {"y": np.zeros((4, 8), np.float32)}
    assert judge.cosine(zeros, quiet) == 1.0
    assert judge.plain_cosine(zeros, quiet) == 0.0  # TPU-MLIR's cosine of a zero tensor
    assert judge.cosine({"y": loud["y"] * 0.01}, quiet) < 0.5  # a loud answer to silence
    assert judge.cosine(loud, loud) == 1.0
    assert judge.cosine({}, loud) == 1.0  # an output the run did not change


class CannedBackend:
    """A backend whose program returns, for sample ``i``, the ``i``-th canned outputs."""

    def __init__(self, outputs: list[dict[str, np.ndarray]]) -> None:
        self.outputs = outputs

    def lower(self, module: object, options: object) -> str:
        return "program"

    def run_program(self, program: str, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return self.outputs[int(feeds["i"])]


class CannedSource:
    def __init__(self, backend: CannedBackend) -> None:
        self.backend = backend

    def quantized(self, table: object, overrides: object) -> Module:
        return Module("m", Graph("m"))


def test_samples_silent_in_both_runs_are_left_out_of_the_mean() -> None:
    rng = np.random.default_rng(6)
    loud = [{"y": rng.normal(size=(4, 8))} for _ in range(2)]
    quiet = [{"y": rng.normal(size=(4, 8)) * 1e-7} for _ in range(2)]
    refs = [*loud, *quiet]
    noisy = [{"y": x["y"] + rng.normal(size=(4, 8)) * 0.3} for x in loud]
    answers = [*noisy, {"y": np.zeros((4, 8))}, {"y": np.zeros((4, 8))}]
    judge = OutputJudge(["y"], refs)
    assert judge.quiet(answers[2], quiet[0]) and not judge.quiet(answers[0], loud[0])
    want = np.mean([judge.cosine(a, r) for a, r in zip(noisy, loud, strict=True)])
    source = CannedSource(CannedBackend(answers))
    inputs = [{"i": np.array(k)} for k in range(4)]
    empty = Module("m", Graph("m"))
    trials = ProgramTrials(source, empty, None, "F16", inputs, refs, 0.999, judge)  # type: ignore[arg-type]
    result = trials.run([], complete=True)
    assert result.cosine == pytest.approx(want) and result.cosine < 0.99
    # a loud answer to a silent sample is counted (and is a miss)
    answers[3] = {"y": rng.normal(size=(4, 8))}
    louder = ProgramTrials(source, empty, None, "F16", inputs, refs, 0.999, judge)  # type: ignore[arg-type]
    assert louder.run([], complete=True).cosine < want
