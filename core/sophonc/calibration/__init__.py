"""Calibration: per-tensor statistics, threshold methods and the calibration table.

The pieces of TPU-MLIR's ``run_calibration``, reproduced to its numbers: the sample
selection (:mod:`~sophonc.calibration.dataset`), the streaming statistics gathered
while the samples run (:mod:`~sophonc.calibration.statistics`), the ``--cali_method``
algorithms (:mod:`~sophonc.calibration.thresholds`, KLD in
:mod:`~sophonc.calibration.kld`) and the table file (:mod:`~sophonc.calibration.table`).
"""

from sophonc.calibration.dataset import read_data_list, sample_kind, select_dataset
from sophonc.calibration.kld import kl_threshold
from sophonc.calibration.statistics import (
    CalibrationStatistics,
    StatisticsOptions,
    TensorStatistics,
)
from sophonc.calibration.table import CalibrationTable, TableHeader
from sophonc.calibration.table_entry import ScaleLine, TableEntry
from sophonc.calibration.thresholds import (
    METHODS,
    aciq_gauss_threshold,
    aciq_laplace_threshold,
    canonical_method,
    canonicalize,
    max_threshold,
    method_names,
    mse_threshold,
    percentile9999_threshold,
    percentile_for_op,
    table_entry,
    tail_tensors_at_abs_max,
)

__all__ = [
    "METHODS",
    "CalibrationStatistics",
    "CalibrationTable",
    "ScaleLine",
    "StatisticsOptions",
    "TableEntry",
    "TableHeader",
    "TensorStatistics",
    "aciq_gauss_threshold",
    "aciq_laplace_threshold",
    "canonical_method",
    "canonicalize",
    "kl_threshold",
    "max_threshold",
    "method_names",
    "mse_threshold",
    "percentile9999_threshold",
    "percentile_for_op",
    "read_data_list",
    "sample_kind",
    "select_dataset",
    "table_entry",
    "tail_tensors_at_abs_max",
]
