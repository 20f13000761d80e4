"""Our numpy reference interpreter against onnxruntime on real models.

For each model (PP-OCRv4 det, PP-OCRv4 rec, the PP-OCR direction classifier, and
the YOLO-style model of the e2e tests at 640x640): import it through the frontend
registry, canonicalise, then time ``Interpreter.run`` and onnxruntime (one intra-op
thread, and its default thread count) on the same seeded input, after a warm-up,
as the median of N runs. Prints ms per inference, the ratio ours/onnxruntime and
the cosine of the outputs. Run: ``make bench`` or
``python benchmarks/interpreter_vs_onnxruntime.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
from deploy_accuracy import yolo_style

from sophonc.api import FrontendOptions
from sophonc.compare import cosine_similarity
from sophonc.interp import Interpreter
from sophonc.passes import canonicalize
from sophonc.plugins.registry import frontend_for_path
from sophonc.testing.models import rapidocr_model

SEED = 2024


def median_ms(fn: Callable[[], object], warmup: int, runs: int) -> float:
    """Median wall time of ``fn`` in milliseconds after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def session(path: Path, threads: int) -> ort.InferenceSession:
    """An onnxruntime CPU session; ``threads`` intra-op threads (0 = its default)."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def bench(name: str, path: Path, shape: list[int], warmup: int, runs: int) -> list[str]:
    frontend = frontend_for_path(path)
    module = canonicalize(frontend.load(path, FrontendOptions(name, input_shapes=[shape])))
    interp = Interpreter(module)
    in_name = module.graph.inputs[0].name
    x = np.random.default_rng(SEED).uniform(-1, 1, shape).astype(np.float32)
    feeds = {in_name: x}
    ort1, ortn = session(path, 1), session(path, 0)
    ours_out = interp.run(feeds)[module.graph.outputs[0].name]
    ref_out = ort1.run(None, feeds)[0]
    cos = cosine_similarity(
        np.asarray(ours_out, np.float64).ravel(), np.asarray(ref_out, np.float64).ravel()
    )
    t_ours = median_ms(lambda: interp.run(feeds), warmup, runs)
    t_ort1 = median_ms(lambda: ort1.run(None, feeds), warmup, runs)
    t_ortn = median_ms(lambda: ortn.run(None, feeds), warmup, runs)
    return [
        name,
        "x".join(map(str, shape)),
        f"{t_ours:.1f}",
        f"{t_ort1:.1f}",
        f"{t_ortn:.1f}",
        f"{t_ours / t_ort1:.2f}",
        f"{t_ours / t_ortn:.2f}",
        f"{cos:.7f}",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs per engine")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs first")
    args = parser.parse_args()
    header = [
        "model", "input", "ours ms", "ort 1T ms", "ort ms", "ours/ort1T", "ours/ort", "cosine",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            ("ppocrv4_det", rapidocr_model("det"), [1, 3, 480, 480]),
            ("ppocrv4_rec", rapidocr_model("rec"), [1, 3, 48, 320]),
            ("ppocr_cls", rapidocr_model("cls"), [1, 3, 48, 192]),
            ("yolo_style", yolo_style(Path(tmp)), [1, 3, 640, 640]),
        ]
        rows = [header]
        for name, path, shape in cases:
            rows.append(bench(name, path, shape, args.warmup, args.runs))
            print(f"done {name}", file=sys.stderr)
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    for i, r in enumerate(rows):
        cells = zip(r, widths, strict=True)
        print("  ".join(c.ljust(w) if j < 2 else c.rjust(w) for j, (c, w) in enumerate(cells)))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"median of {args.runs} runs after {args.warmup} warm-up; ort 1T = 1 intra-op thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
