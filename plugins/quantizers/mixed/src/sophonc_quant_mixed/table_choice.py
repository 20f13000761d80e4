"""Keep only threshold changes that help the whole program, not just each layer.

Each new threshold was chosen because it lowers its own layer's harm with
everything else float. Together, in the all-INT8 program, they can still do
worse (a looser threshold trades clipping for rounding noise, which then adds
up with every other layer's). So the improved table is judged like a float
choice, on chip programs: the given table, every change, and only the strong
changes (harm at least halved) each run all-INT8 on the search samples, and
the best cosine wins (ties go to fewer changes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sophonc.calibration.table import CalibrationTable
from sophonc.ir.module import Module
from sophonc_quant_mixed.alternatives import table_with_rows
from sophonc_quant_mixed.trials import ProgramTrials
from sophonc_quant_mixed.tuning import MethodChoice

#: A change is strong when it cuts its layer's harm to at most this fraction.
STRONG = 0.5


@dataclass
class TableChoice:
    """The table the search goes on with, its changes, and its all-INT8 cosine."""

    table: CalibrationTable
    choices: list[MethodChoice]
    cosine: float
    trials: ProgramTrials
    proposed: int
    programs_run: int = 0


def pick_table(
    proposed: Sequence[MethodChoice],
    given: CalibrationTable,
    given_cos: float,
    module: Module,
    make_trials: Callable[[CalibrationTable], ProgramTrials],
) -> TableChoice:
    """The best of: the given table, all ``proposed`` changes, the strong ones."""
    best = TableChoice(given, [], given_cos, make_trials(given), len(proposed))
    programs = 0
    strong = [c for c in proposed if c.harm_after <= STRONG * c.harm_before]
    options = [list(proposed)]
    if strong and len(strong) < len(proposed):
        options.append(strong)
    for choices in options:
        if not choices:
            continue
        table = table_with_rows(given, module, {c.tensor: c.entry for c in choices})
        trials = make_trials(table)
        cosine = trials.run([], complete=True).cosine
        programs += 1
        better = cosine > best.cosine or (
            cosine == best.cosine and len(choices) < len(best.choices)
        )
        if better:
            best = TableChoice(table, choices, cosine, trials, len(proposed))
    best.programs_run = programs - best.trials.programs_run
    return best
