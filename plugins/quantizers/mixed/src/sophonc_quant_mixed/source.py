"""Fresh copies of the model, quantized on demand.

Quantization annotates a module in place and every trial needs its own
precisions, so each trial starts from a fresh copy: new values and nodes,
sharing the (read-only) weight arrays — far cheaper than a text round trip.
"""

from __future__ import annotations

from collections.abc import Mapping

from sophonc.api import Backend
from sophonc.calibration.table import CalibrationTable
from sophonc.ir.module import Module
from sophonc.plugins.registry import load_quantizer
from sophonc_quant_mixed.graph_slices import copy_module


class ModelSource:
    """Makes independent copies of one top-level module."""

    def __init__(self, module: Module, backend: Backend) -> None:
        self.name = module.name
        self.backend = backend
        self._original = copy_module(module)
        self._quantizer = load_quantizer("symmetric")

    def fresh(self) -> Module:
        """An unquantized copy."""
        return copy_module(self._original)

    def quantized(self, table: CalibrationTable, overrides: Mapping[str, str]) -> Module:
        """A copy quantized for INT8 with ``table``; ``overrides`` is a qtable (name → mode)."""
        return self._quantizer.quantize(self.fresh(), table, self.backend.target, overrides)
