"""Tensor comparison with TPU-MLIR's ``npz_tool compare`` semantics.

:func:`compare_arrays` judges every shared tensor of two dumps; the verdicts and
metrics are in :mod:`sophonc.compare.metrics`, the text form in
:mod:`sophonc.compare.table`.
"""

from sophonc.compare.metrics import (
    CLOSE,
    EQUAL,
    NOT_EQUAL,
    NOT_MATCH,
    NOT_SIMILAR,
    SIMILAR,
    Similarity,
    TensorResult,
    compare_tensors,
    cosine_similarity,
    euclidean_similarity,
    similarity,
    sqnr_db,
)
from sophonc.compare.report import (
    CompareReport,
    compare_arrays,
    parse_excepts,
    parse_tolerance,
    pick_names,
)
from sophonc.compare.table import format_row, format_summary, format_table

__all__ = [
    "CLOSE",
    "EQUAL",
    "NOT_EQUAL",
    "NOT_MATCH",
    "NOT_SIMILAR",
    "SIMILAR",
    "CompareReport",
    "Similarity",
    "TensorResult",
    "compare_arrays",
    "compare_tensors",
    "cosine_similarity",
    "euclidean_similarity",
    "format_row",
    "format_summary",
    "format_table",
    "parse_excepts",
    "parse_tolerance",
    "pick_names",
    "similarity",
    "sqnr_db",
]
