"""Mixed-precision search on BM1684X: ``sophon qtable`` beside TPU-MLIR's ``search_qtable``.

For each model (PP-OCRv4 det and rec, the PP-OCR direction classifier, the
YOLO-style detector of the e2e tests) this script runs, in one work folder:

* ours: ``sophon transform``, ``sophon calibrate`` on the first 10 scikit-image
  pictures in TPU-MLIR's order (kl with the tune step), then ``sophon qtable``
  on the same 10 pictures (the next 10 held back to check the choice) for
  ``--expected_cos``. Timed: calibration and search, each a subprocess.
* official, when ``SOPHON_TPU_MLIR_VENV`` names a TPU-MLIR venv: ``model_transform``
  with the same flags, then ``run_calibration --search search_qtable`` on the same
  10 pictures for the same target (it calibrates with its method list itself, so
  its time covers calibration and search, as ours is summed).

Then both choices are deployed as INT8 with their qtable and calibration table
(ours through :func:`sophonc.deploy.deploy`, the official one with its
``model_deploy --debug``), and each tool's program is compared with its own F32
top-level model on test pictures kept out of the folder both searches draw from
(page, phantom and coffee for the OCR models, whose folder keeps text.png;
``deploy_accuracy.py``'s four for the YOLO-style model). Reported per model and
tool: float ops in the qtable (distinct ops; ours also lists the names fused into
them, which are not counted), the cosine the search itself reports on its
samples, the test pictures' mean and minimum cosine, the all-INT8 cosine on them
for reference, and the wall time.

A float op is one node of the model kept in float. TPU-MLIR's qtable also holds
the layers its pattern matcher always keeps in float (shape computations, parts of
transformer blocks); they are counted, as they are float layers of its result.

Run: ``python benchmarks/mixed_search.py [--models det,rec,cls,yolo]
[--expected_cos 0.99] [--keep DIR] [--no-official]``. Ours takes about 10 minutes
for the four models; the official search takes from a minute (an early exit) to
well over an hour (PP-OCRv4 det).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from deploy_accuracy import (
    CALIBRATION_PICTURES,
    CHIP,
    Arrays,
    Case,
    Official,
    Scores,
    ToolError,
    ToolRun,
    add_common_arguments,
    case_folder,
    checked,
    compare_outputs,
    model_names,
    official_model_file,
    official_note,
    official_toolchain,
    output_of,
    picture_folder,
    print_table,
    selected_pictures,
    sophon,
    stop_on_sigterm,
)

from sophonc.deploy import DeployRequest, deploy
from sophonc.inputs import build_inputs
from sophonc.interp import Interpreter
from sophonc.ir.text import load_module
from sophonc.npzfile import read_npz, write_npz
from sophonc.plugins.registry import load_backend
from sophonc.quantize.precision import layer_names
from sophonc.quantize.qtable import read_qtable

#: Test pictures per model, kept out of the searches' folder. The OCR models lose
#: text.png from deploy_accuracy.py's list: it stays in the folder, the one text picture
#: a search can see (held back by ours, beyond TPU-MLIR's 10).
TEST_PICTURES = {
    "det": ("page.png", "phantom.png", "coffee.png"),
    "rec": ("page.png", "phantom.png", "coffee.png"),
    "cls": ("page.png", "phantom.png", "coffee.png"),
}
#: Our search line: ``chosen: N float layers (...) -> output cosine X on the search samples``.
OUR_CHOSEN = re.compile(r"chosen: (\d+) float layers? .*?-> output cosine ([0-9.]+)")
OUR_EARLY = re.compile(r"output cosine ([0-9.]+).*wrote an empty qtable")
OUR_HELD_BACK = re.compile(
    r"held-back check on (\d+) samples: all-INT8 ([0-9.]+)(?:, chosen ([0-9.]+))?"
)
OUR_AGAIN = re.compile(r"searched again for a choice that reaches it on both sets")
#: TPU-MLIR's result line (the last one is the final choice) and its early exit.
THEIR_RESULT = re.compile(r"float layer number: (\d+), mix model outputs_cos: ?([0-9.]+)")
THEIR_EARLY = re.compile(r"current int8 cos:([0-9.]+) is higher than expected_cos")


@dataclass
class Outcome:
    """One tool's search on one model."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    float_ops: int = 0
    qtable_lines: int = 0
    search_cos: float | None = None
    held_back: str = "-"
    early_exit: bool = False
    mixed: Scores = field(default_factory=Scores)
    all_int8: Scores = field(default_factory=Scores)


def search_folder(every: Path, folder: Path, tests: Sequence[Path]) -> Path:
    """``folder/pictures``: every picture but the test ones (links), for both searches."""
    target = folder / "pictures"
    target.mkdir(exist_ok=True)
    skip = {p.name for p in tests}
    for path in sorted(every.iterdir()):
        link = target / path.name
        if path.name not in skip and not link.exists():
            link.symlink_to(path)
    return target


def log_text(run: ToolRun) -> str:
    return run.log.read_text(errors="replace").replace("\r", "\n")


def last_match(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    found = list(pattern.finditer(text))
    return found[-1] if found else None


def qtable_lines(path: Path) -> list[str]:
    """The ``name MODE`` lines of a qtable (none when the file is missing)."""
    if not path.is_file():
        return []
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def float_ops(mlir: Path, qtable: Path) -> int:
    """Distinct nodes of our IR that the qtable keeps in float."""
    if not qtable_lines(qtable):
        return 0
    names = layer_names(load_module(mlir))
    return len({id(names[n]) for n in read_qtable(qtable) if n in names})


def test_inputs(case: Case, folder: Path, mlir: Path, tests: Sequence[Path]) -> list[Path]:
    """``<picture>_in_f32.npz`` for each test picture, with the model's preprocessing."""
    module = load_module(mlir)
    paths = []
    for pic in tests:
        path = folder / f"{pic.stem}_in_f32.npz"
        write_npz(path, build_inputs([pic], module.graph.inputs))
        paths.append(path)
    return paths


# --------------------------------------------------------------------------- ours


def ours(
    case: Case, folder: Path, model: Path, pics: Path, tests: Sequence[Path],
    expected_cos: float, verify_num: int, log: Path,
) -> Outcome:  # fmt: skip
    """Our transform, calibration, search, and both deploys on the test pictures."""
    name = case.name
    mlir, table, qtable = folder / f"{name}.mlir", f"{name}_cali_table", f"{name}_qtable"
    transform = ["transform", "--model_name", name, "--model_def", str(model), *case.flags,
                 "--test_input", str(tests[0]), "--mlir", mlir.name]  # fmt: skip
    calibrate = ["calibrate", mlir.name, "--dataset", str(pics), "--input_num",
                 str(CALIBRATION_PICTURES), "-o", table]  # fmt: skip
    search = ["qtable", mlir.name, "--dataset", str(pics), "--input_num",
              str(CALIBRATION_PICTURES), "--calibration_table", table, "--chip", CHIP,
              "--expected_cos", str(expected_cos), "--verify_num", str(verify_num),
              "-o", qtable]  # fmt: skip
    checked(sophon(transform, folder, log), f"sophon transform ({name})")
    cal = checked(sophon(calibrate, folder, log), f"sophon calibrate ({name})")
    run = checked(sophon(search, folder, log), f"sophon qtable ({name})")
    out = Outcome(seconds=cal.wall_s + run.wall_s, cpu_seconds=cal.cpu_s + run.cpu_s)
    text = log_text(run)
    chosen, held = last_match(OUR_CHOSEN, text), last_match(OUR_HELD_BACK, text)
    if chosen is not None:
        out.search_cos = float(chosen.group(2))
    else:
        early = last_match(OUR_EARLY, text)
        out.early_exit = True
        out.search_cos = float(early.group(1)) if early else None
    if held is not None:
        out.held_back = f"{float(held.group(3) or held.group(2)):.4f} ({held.group(1)})"
        if last_match(OUR_AGAIN, text) is not None:
            out.held_back += ", searched again"
    out.qtable_lines = len(qtable_lines(folder / qtable))
    out.float_ops = float_ops(mlir, folder / qtable)
    top = load_module(mlir)
    interpreter = Interpreter(top)
    feeds = [read_npz(p) for p in test_inputs(case, folder, mlir, tests)]
    references = [interpreter.run(arrays) for arrays in feeds]
    outputs = [v.name for v in top.graph.outputs]
    backend = load_backend(CHIP)
    requests = {
        "mixed": DeployRequest("INT8", calibration_table=folder / f"{qtable}_cali_table",
                               quantize_table=folder / qtable),
        "all_int8": DeployRequest("INT8", calibration_table=folder / table),
    }  # fmt: skip
    for key, request in requests.items():
        if key == "mixed" and not (folder / f"{qtable}_cali_table").is_file():
            request = requests["all_int8"]  # an early exit writes no new table
        deployed = deploy(load_module(mlir), backend, request, None, None, lambda _step: None)
        scores: Scores = getattr(out, key)
        for arrays, reference in zip(feeds, references, strict=True):
            got = backend.run_program(deployed.program, arrays)
            compare_outputs(case, outputs, got, reference, scores)
    return out


# --------------------------------------------------------------------------- official


def official_search(
    official: Official, case: Case, folder: Path, model: Path, pics: Path,
    tests: Sequence[Path], expected_cos: float, log: Path,
) -> Outcome:  # fmt: skip
    """TPU-MLIR's transform, ``search_qtable``, and both deploys on the test pictures
    (the ``<picture>_in_f32.npz`` files :func:`ours` wrote)."""
    name = case.official_name
    mlir, qtable, table = f"{name}.mlir", f"{name}_qtable", f"{name}_qtable_cali_table"
    transform = ["--model_name", name, "--model_def", str(official_model_file(model, folder)),
                 *case.flags, "--test_input", str(tests[0]), "--test_result",
                 f"{name}_top_outputs.npz", "--mlir", mlir]  # fmt: skip
    checked(official.run("model_transform", transform, folder, log),
            f"official model_transform ({case.name})")  # fmt: skip
    (folder / table).unlink(missing_ok=True)  # an existing table would skip its calibration
    search = [mlir, "--dataset", str(pics), "--input_num", str(CALIBRATION_PICTURES),
              "--search", "search_qtable", "--expected_cos", str(expected_cos),
              "--processor", CHIP, "--quantize_table", qtable, "-o", table]  # fmt: skip
    run = checked(official.run("run_calibration", search, folder, log),
                  f"official search_qtable ({case.name})")  # fmt: skip
    out = Outcome(seconds=run.wall_s, cpu_seconds=run.cpu_s)
    text = log_text(run)
    result, early = last_match(THEIR_RESULT, text), last_match(THEIR_EARLY, text)
    if early is not None:
        out.early_exit, out.search_cos = True, float(early.group(1))
    elif result is not None:
        out.search_cos = float(result.group(2))
    lines = qtable_lines(folder / qtable)
    out.qtable_lines = out.float_ops = len({ln.split()[0] for ln in lines})
    inputs = [folder / f"{pic.stem}_in_f32.npz" for pic in tests]

    def runner(program: str, npz: Path, result: Path) -> Arrays:
        args = ["--model", program, "--input", str(npz), "--output", str(result)]
        checked(official.run("model_runner", args, folder, log), f"official model_runner {program}")
        return read_npz(result)

    tops = [runner(mlir, p, folder / f"{name}_{p.stem}_top.npz") for p in inputs]
    tables = {"mixed": (table, qtable if lines else None), "all_int8": (table, None)}
    for key, (cali, quantize_table) in tables.items():
        args = ["--mlir", mlir, "--quantize", "INT8", "--processor", CHIP, "--calibration_table",
                cali, "--model", f"{name}_{key}.bmodel", "--debug"]  # fmt: skip
        if quantize_table is not None:
            args += ["--quantize_table", quantize_table]
        checked(official.run("model_deploy", args, folder, log),
                f"official model_deploy {key} ({case.name})")  # fmt: skip
        program = f"{name}_{CHIP}_int8_sym_tpu.mlir"
        scores: Scores = getattr(out, key)
        for npz, top in zip(inputs, tops, strict=True):
            got = runner(program, npz, folder / f"{name}_{npz.stem}_{key}.npz")
            names = list(top)
            outs = {n: output_of(got, n, top[n].shape) for n in names}
            compare_outputs(case, names, outs, top, scores)
    return out


# --------------------------------------------------------------------------- report


def cos_cell(value: float | None, early: bool) -> str:
    if value is None:
        return "?"
    return f"{value:.4f}" + (" (all-INT8, early exit)" if early else "")


def mean_min(values: Sequence[float]) -> str:
    if not values:
        return "not run"
    return f"{statistics.fmean(values):.4f} / {min(values):.4f}"


def row(tool: str, out: Outcome | None, failure: str | None = None) -> list[str]:
    if out is None:
        return [tool, failure or "not run", "", "", "", "", "", ""]
    return [
        tool,
        str(out.float_ops),
        str(out.qtable_lines),
        cos_cell(out.search_cos, out.early_exit),
        out.held_back,
        mean_min(out.mixed.whole),
        mean_min(out.all_int8.whole),
        f"{out.seconds:.0f} s (cpu {out.cpu_seconds:.0f} s)",
    ]


def report(
    case: Case, tests: Sequence[Path], mine: Outcome, theirs: Outcome | None, failure: str | None
) -> None:
    print()
    print(f"{case.name}: {case.title}; test pictures {', '.join(p.name for p in tests)}")
    rows = [
        ["tool", "float ops", "qtable lines", "search cos", "held-back", "mixed test mean/min",
         "all-INT8 test mean/min", "time (calibration + search)"],
        row("sophonc", mine),
        row("TPU-MLIR", theirs, failure),
    ]  # fmt: skip
    print_table(rows)
    if case.scores_from is not None:
        k = case.scores_from
        print(f"  scores part [..., {k}:] on the test pictures, mixed: ours "
              f"{mean_min(mine.mixed.part)}, TPU-MLIR "
              f"{mean_min(theirs.mixed.part) if theirs else 'not run'}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--expected_cos", type=float, default=0.99, help="the searches' target")
    parser.add_argument(
        "--verify_num", type=int, default=CALIBRATION_PICTURES,
        help="pictures our search holds back (0: only the 10 TPU-MLIR sees)",
    )  # fmt: skip
    args = parser.parse_args()
    names = model_names(parser, args.models)
    official = official_toolchain(args.no_official)
    stop_on_sigterm()
    start = time.perf_counter()
    failed = False
    with tempfile.TemporaryDirectory(prefix="sophonc-mixed-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        every = picture_folder(work)
        print(f"target {args.expected_cos}; {official_note(official)}")
        for name in names:
            case, folder, log, model = case_folder(work, name)
            tests = [every / p for p in TEST_PICTURES.get(name, case.pictures)]
            pics = search_folder(every, folder, tests)
            chosen = selected_pictures(pics, CALIBRATION_PICTURES + args.verify_num)
            held = ", ".join(chosen[CALIBRATION_PICTURES:]) or "none"
            print(
                f"\n{name}: search samples {', '.join(chosen[:CALIBRATION_PICTURES])}; ours "
                f"holds back {held}"
            )
            try:
                mine = ours(case, folder, model, pics, tests, args.expected_cos,
                            args.verify_num, log)  # fmt: skip
            except ToolError as exc:
                failed = True
                print(f"\n{name}: sophonc failed, no table: {exc}")
                continue
            theirs: Outcome | None = None
            failure: str | None = None
            if official is not None:
                try:
                    theirs = official_search(official, case, folder, model, pics, tests,
                                             args.expected_cos, log)  # fmt: skip
                except ToolError as exc:
                    failure = "failed"
                    print(exc, file=sys.stderr)
            report(case, tests, mine, theirs, failure)
            sys.stdout.flush()
        if args.keep:
            print(f"\nwork folder kept: {work}")
    minutes = (time.perf_counter() - start) / 60
    print(
        "\nfloat ops: distinct model ops the qtable keeps in float; search cos: what each "
        "search reports on its samples (ours: samples whose outputs are silent in F32 and "
        "INT8 left out; after searching again, the lower of its 10 and the held-back 10); "
        "held-back: ours on the next 10 pictures, first choice ('searched again': it missed "
        "the target there, and the search ran again until the target held on both sets); "
        "test: each tool's INT8 program against its own F32 model on pictures neither "
        f"search saw; {minutes:.0f} min"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
