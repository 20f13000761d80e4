"""Finding the fewest float layers that reach the target, in few program runs.

1. Rank the layers by harm alone (most harmful first; ties by accumulated
   harm, then graph order, so the ranking is deterministic). Layers without
   measurable harm are never chosen: putting them in float cannot help.
2. Model the loss of the program with the top ``k`` layers in float as the
   all-INT8 loss times the share of harm left to the other layers
   (quantization noise of independent layers adds up), scaled by what the
   last trial measured. The model only picks the next count to try; every
   verdict comes from a real program run (:mod:`sophonc_quant_mixed.trials`).
3. Search the smallest passing count between the last failing and the first
   passing count: the model's pick when it falls strictly inside, the middle
   otherwise (so the worst case is a bisection).
4. Try dropping each chosen layer again, least harmful first, when the model
   says the margin above the target could absorb it (the ranking measures
   layers one at a time; in the program some become unnecessary once their
   neighbours are float). A drop is kept only if its program still passes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sophonc_quant_mixed.layers import Layer
from sophonc_quant_mixed.sensitivity import LayerHarm
from sophonc_quant_mixed.trials import Trials

#: A drop is tried when the model puts its cost below this multiple of the margin.
DROP_SLACK = 2.0


@dataclass(frozen=True)
class SearchOutcome:
    """The chosen layers (rank order), whether they reach the target, and the first guess."""

    chosen: list[Layer]
    reached: bool
    guess: int
    trials: int


def rank_layers(
    layers: Sequence[Layer], harms: Mapping[str, LayerHarm], accumulated: Mapping[str, float]
) -> list[Layer]:
    """Most harmful first; ties by lower accumulated cosine, then graph order."""

    def key(layer: Layer) -> tuple[float, float, int]:
        return (-harms[layer.name].harm, accumulated.get(layer.name, 1.0), layer.index)

    return sorted(layers, key=key)


class LossModel:
    """Predicted output loss (1 − cosine) with the top ``k`` ranked layers in float."""

    def __init__(self, harms: Sequence[float], all_int8_loss: float) -> None:
        self.harms = [max(h, 0.0) for h in harms]
        self.total = sum(self.harms)
        self.left = [self.total]
        for h in self.harms:
            self.left.append(self.left[-1] - h)
        self.scale = all_int8_loss / self.total if self.total > 0.0 else 0.0

    def loss(self, count: int) -> float:
        """The loss left with the top ``count`` layers in float."""
        return self.scale * max(self.left[count], 0.0)

    def calibrate(self, count: int, measured_loss: float) -> None:
        """Rescale so that the model matches a measured trial."""
        left = self.left[count]
        if left > 0.0 and measured_loss > 0.0:
            self.scale = measured_loss / left

    def count_for(self, allowed: float) -> int:
        """The smallest count whose predicted loss is within ``allowed``."""
        for count in range(len(self.harms) + 1):
            if self.loss(count) <= allowed:
                return count
        return len(self.harms)


def find_float_layers(
    ranked: Sequence[Layer],
    harms: Mapping[str, LayerHarm],
    trials: Trials,
    all_int8_cos: float,
    limit: int | None,
) -> SearchOutcome:
    """The smallest set of top-ranked layers whose program reaches the target."""
    useful = [layer for layer in ranked if harms[layer.name].harm > 0.0]
    top = len(useful) if limit is None else min(limit, len(useful))
    before = trials.programs_run
    allowed = 1.0 - trials.expected_cos
    model = LossModel([harms[x.name].harm for x in useful], 1.0 - all_int8_cos)
    guess = min(model.count_for(allowed), top)
    if top == 0:
        return SearchOutcome([], False, guess, 0)
    low, high = 0, top + 1  # ``low`` layers fail (all-INT8 did); ``high`` is unknown
    probe = max(guess, 1)
    while high - low > 1:
        result = trials.run(useful[:probe])
        model.calibrate(probe, 1.0 - result.cosine)
        if result.passed:
            high = probe
        else:
            low = probe
        if high == top + 1 and low == top:
            return SearchOutcome(useful[:top], False, guess, trials.programs_run - before)
        probe = _next_probe(model.count_for(allowed), low, min(high, top + 1), top)
    chosen = prune(useful[:high], harms, trials, model)
    return SearchOutcome(chosen, True, guess, trials.programs_run - before)


def _next_probe(wanted: int, low: int, high: int, top: int) -> int:
    """The model's count when strictly inside (low, high), else the middle."""
    if low < wanted < high and wanted <= top:
        return wanted
    if high > top:  # no pass seen yet: double, bounded by the limit
        return min(max(2 * low, low + 1), top)
    return (low + high) // 2


def prune(
    chosen: Sequence[Layer],
    harms: Mapping[str, LayerHarm],
    trials: Trials,
    model: LossModel,
) -> list[Layer]:
    """Drop every layer the target does not need, least harmful first."""
    kept = list(chosen)
    cosine = trials.run(kept).cosine
    for layer in reversed(list(chosen)):
        if len(kept) <= 1:
            break
        margin = cosine - trials.expected_cos
        if model.scale * harms[layer.name].harm > DROP_SLACK * margin:
            continue
        without = [x for x in kept if x is not layer]
        result = trials.run(without)
        if result.passed:
            kept, cosine = without, result.cosine
    return kept
