"""One model in every precision a chip offers, measured against its framework.

For each mode the model is quantized and lowered afresh, compiled into the
container, and the container runs in the chip's simulator on the test input;
its outputs are compared with what the original framework computes, and the
container's size and the simulator's time per inference are recorded. This is
the comparison TPU-MLIR's guide asks its users to make by hand, in one table.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from sophonc.api import Backend
from sophonc.compare.metrics import Similarity, similarity
from sophonc.deploy import DeployRequest, deploy
from sophonc.ir.module import Module
from sophonc.ir.text import parse_module, print_module

Arrays = Mapping[str, npt.NDArray[np.generic]]


@dataclass(frozen=True)
class ModeResult:
    """What one precision gives: accuracy against the framework, size, speed."""

    label: str
    worst: Similarity
    size: int
    simulate_ms: float
    note: str = ""


def copy_module(module: Module) -> Module:
    """An independent copy (quantization annotates a module in place)."""
    weights = {w.name: np.asarray(w.const) for w in module.graph.weights()}
    return parse_module(print_module(module), weights, source=module.name)


def worst_similarity(outputs: Arrays, reference: Arrays, names: list[str]) -> Similarity:
    """The lowest cosine, euclidean similarity and SQNR over the model outputs."""
    sims = [similarity(np.asarray(outputs[n]), np.asarray(reference[n])) for n in names]
    return Similarity(
        min(s.cosine for s in sims), min(s.euclid for s in sims), min(s.sqnr for s in sims)
    )


def time_simulator(
    backend: Backend, model: bytes, inputs: Arrays, runs: int
) -> tuple[float, Arrays]:
    """Median milliseconds per simulated inference, and the outputs."""
    outputs = backend.simulate(model, inputs)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend.simulate(model, inputs)
        times.append((time.perf_counter() - start) * 1000.0)
    return (statistics.median(times) if times else float("nan")), outputs


def evaluate_mode(
    label: str,
    module: Module,
    backend: Backend,
    request: DeployRequest,
    inputs: Arrays,
    reference: Arrays,
    runs: int = 3,
    note: str = "",
    step: Callable[[str], None] = lambda s: None,
) -> ModeResult:
    """Deploy a copy of ``module`` with ``request`` and measure the container."""
    result = deploy(copy_module(module), backend, request, None, None, step)
    ms, outputs = time_simulator(backend, result.bmodel, inputs, runs)
    names = [v.name for v in module.graph.outputs]
    worst = worst_similarity(outputs, reference, names)
    return ModeResult(label, worst, len(result.bmodel), ms, note)


def human_size(size: int) -> str:
    """Bytes as ``12.3 KB`` / ``4.56 MB``."""
    if size < 1_000_000:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1_000_000:.2f} MB"


def format_results(results: list[ModeResult], framework: str) -> list[str]:
    """The comparison table, one line per mode."""
    head = (
        f"{'mode':<22} {'cosine':>9} {'euclid':>9} {'SQNR dB':>8} {'bmodel':>10} "
        f"{'sim ms':>8}  note"
    )
    lines = [f"outputs against {framework} (worst output of the model)", head, "-" * len(head)]
    for r in results:
        w = r.worst
        lines.append(
            f"{r.label:<22} {w.cosine:>9.6f} {w.euclid:>9.6f} {w.sqnr:>8.2f} "
            f"{human_size(r.size):>10} {r.simulate_ms:>8.1f}  {r.note}"
        )
    return lines
