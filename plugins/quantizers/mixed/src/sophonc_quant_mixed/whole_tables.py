"""Before any layer goes float, try the whole table of every calibration method.

Which method suits a network is not known in advance: kl with the tune step
(``sophon calibrate``'s default, TPU-MLIR's too) can clip a tensor whose rare
large values matter, where mse or max keeps them (the PP-OCR direction
classifier: all-INT8 output cosine 0.966 with kl on text pictures, 0.999 with
mse). TPU-MLIR's ``search_qtable`` calibrates with its method list and then
searches with the mse table after its tune step, whatever it gives. Here each
method's table is built from one F32 pass over the search samples (every
estimate each method reads, for every tensor of the given table), percentile9999
and mse also after the tune step (:data:`TUNED`), and each is judged like a float
choice: the all-INT8 chip program on the search samples. The best cosine wins;
the given table wins ties, so a search never does worse than it was given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sophonc.api import Arrays
from sophonc.calibration.runner import calibrated_tensors
from sophonc.calibration.table import CalibrationTable
from sophonc.calibration.thresholds import table_entry
from sophonc.calibration.tune import tune_thresholds
from sophonc.ir.module import Module
from sophonc_quant_mixed.alternatives import METHODS, collect_statistics, table_with_rows
from sophonc_quant_mixed.trials import ProgramTrials

Tick = Callable[[], None]
#: Methods whose table is also tried after the tune step (kl's is the usual given
#: table; max leaves the step nothing to widen).
TUNED = ("percentile9999", "mse")
#: Samples the tune step reads, as ``sophon calibrate``'s default.
TUNE_SAMPLES = 5


@dataclass
class WholeTableChoice:
    """The table the search starts from: the given one or a method's."""

    table: CalibrationTable
    method: str | None
    cosine: float
    cosines: dict[str, float] = field(default_factory=dict)
    programs_run: int = 0


def method_tables(
    module: Module,
    given: CalibrationTable,
    inputs: Sequence[Arrays],
    tick: Tick | None = None,
) -> dict[str, CalibrationTable]:
    """Each method's table for the tensors of ``given`` (its other rows kept)."""
    names = [v.name for v in calibrated_tensors(module) if v.name in given]
    if not names:
        return {}
    stats = collect_statistics(module, names, inputs, given.header.histogram_bins or 2048, tick)
    tables: dict[str, CalibrationTable] = {}
    for method in METHODS:
        rows = {name: table_entry(method, name, stats[name]) for name in names}
        tables[method] = table_with_rows(given, module, rows)
    for method in TUNED:
        tuned = tune_thresholds(module, tables[method], stats, inputs[:TUNE_SAMPLES])
        rows = {name: tuned[name] for name in names}
        tables[f"{method}+tune"] = table_with_rows(given, module, rows)
    return tables


def pick_whole_table(
    tables: dict[str, CalibrationTable],
    given: CalibrationTable,
    given_cos: float,
    make_trials: Callable[[CalibrationTable], ProgramTrials],
) -> WholeTableChoice:
    """The table whose all-INT8 program scores best (``given`` on ties)."""
    best = WholeTableChoice(given, None, given_cos)
    for method, table in tables.items():
        cosine = make_trials(table).run([], complete=True).cosine
        best.cosines[method] = cosine
        best.programs_run += 1
        if cosine > best.cosine:
            best.table, best.method, best.cosine = table, method, cosine
    return best


__all__ = ["WholeTableChoice", "method_tables", "pick_whole_table"]
