"""BM1684X output accuracy per deploy mode: ours beside the official TPU-MLIR.

For each model (PP-OCRv4 det, PP-OCRv4 rec, the PP-OCR direction classifier and
the YOLO-style detector of the e2e tests at 640x640) this script does what the
TPU-MLIR guide does, with both tools, in one work folder:

* ours: ``sophon transform`` (validated on the first test picture), ``sophon
  calibrate`` on 10 scikit-image pictures (TPU-MLIR's selection order, ``kl``
  with the tune step: the defaults), then the deploy flow of ``sophon deploy``
  (:func:`sophonc.deploy.deploy`) for F32, F16, BF16 and INT8. On each test
  picture the lowered program's output is compared (cosine) with the F32
  top-level model's, and the simulated bmodel's output must equal the program's
  bit for bit (column ``sim==prog``: pictures where it does).
* official, when ``SOPHON_TPU_MLIR_VENV`` names a TPU-MLIR venv: the same
  ``model_transform`` flags, ``run_calibration`` on the same folder with the same
  ``--input_num`` (so the same 10 pictures), ``model_deploy --debug`` for INT8,
  BF16 and F16 (``--debug`` keeps its ``*_tpu.mlir`` weights), then
  ``model_runner`` on its lowered program and on its top-level model for the same
  test inputs; the cosine is of its program against its own top-level model.

Test pictures (none is among the 10 calibration pictures): page.png, text.png,
phantom.png, coffee.png for the OCR models (the two with text, then the two other
pictures the detector responds to most; on a text-free picture its F32 map is ~1e-7
everywhere and both tools' INT8 round it to zeros, a cosine of 0 that measures
nothing); astronaut.png, coffee.png, chelsea.png, motorcycle_left.png for the
YOLO-style model (the last two are also calibration pictures).

The test inputs are the ``<name>_in_f32.npz`` each picture becomes, written with
our preprocessing; before use they are checked against the file the official
``model_transform`` wrote for the first picture. For the YOLO-style model, whose
one output joins box pixels and [0, 1] scores, the cosine of the scores part
``[..., 4:]`` is printed too. Without the official toolchain its columns read
``not run``.

Run: ``python benchmarks/deploy_accuracy.py [--models det,rec,cls,yolo]
[--pictures N] [--all_pictures] [--keep DIR]``. ``--all_pictures`` adds every
other picture calibration did not use (16 more): the classifier's two-class
output makes 4 pictures a noisy mean.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from sophonc.compare import cosine_similarity
from sophonc.deploy import DeployRequest, deploy
from sophonc.inputs import build_inputs
from sophonc.interp import Interpreter
from sophonc.ir.text import load_module
from sophonc.npzfile import read_npz, write_npz
from sophonc.plugins.registry import load_backend
from sophonc.testing.models import rapidocr_model, sample_images

ROOT = Path(__file__).resolve().parent.parent
CHIP = "bm1684x"
VENV_VARIABLE = "SOPHON_TPU_MLIR_VENV"
#: Calibration pictures, as TPU-MLIR's guide and our e2e tests use them.
CALIBRATION_PICTURES = 10
OUR_MODES = ("F32", "F16", "BF16", "INT8")
OFFICIAL_MODES = ("F16", "BF16", "INT8")
#: Highest ONNX IR version the official toolchain's onnxruntime 1.16 reads.
OFFICIAL_MAX_IR = 9

Arrays = dict[str, npt.NDArray[np.generic]]

#: Pictures the text detector responds to: on a text-free picture its F32 map is ~1e-7
#: everywhere, INT8 rounds it to zeros (both tools) and the cosine says nothing.
OCR_PICTURES = ("page.png", "text.png", "phantom.png", "coffee.png")
YOLO_PICTURES = ("astronaut.png", "coffee.png", "chelsea.png", "motorcycle_left.png")


@dataclass(frozen=True)
class Case:
    """One model: its name, ``model_transform`` flags and test pictures.

    ``scores_from`` marks a detector output whose last axis holds scores from
    that index on (the YOLO-style model: 4 box pixels, then scores).
    """

    name: str
    title: str
    shape: tuple[int, ...]
    flags: tuple[str, ...]
    pictures: tuple[str, ...]
    scores_from: int | None = None

    @property
    def official_name(self) -> str:
        """The official run's ``--model_name`` (both tools write
        ``<model>_top_f32_all_weight.npz``: the names must differ)."""
        return f"tpumlir_{self.name}"


def _preprocess(shape: Sequence[int], mean: str, scale: str, *extra: str) -> tuple[str, ...]:
    dims = ",".join(map(str, shape))
    return (
        "--input_shapes",
        f"[[{dims}]]",
        "--mean",
        mean,
        "--scale",
        scale,
        *extra,
        "--pixel_format",
        "rgb",
    )


REC_MEAN, REC_SCALE = "127.5,127.5,127.5", "0.0078431,0.0078431,0.0078431"
CASES: dict[str, Case] = {
    "det": Case(
        "det", "PP-OCRv4 det", (1, 3, 480, 480),
        _preprocess((1, 3, 480, 480), "123.675,116.28,103.53", "0.01712,0.0175,0.01743"),
        OCR_PICTURES,
    ),
    "rec": Case(
        "rec", "PP-OCRv4 rec", (1, 3, 48, 320),
        _preprocess((1, 3, 48, 320), REC_MEAN, REC_SCALE), OCR_PICTURES,
    ),
    "cls": Case(
        "cls", "PP-OCR direction classifier", (1, 3, 48, 192),
        _preprocess((1, 3, 48, 192), REC_MEAN, REC_SCALE), OCR_PICTURES,
    ),
    "yolo": Case(
        "yolo", "YOLO-style detector (seeded weights)", (1, 3, 640, 640),
        _preprocess((1, 3, 640, 640), "0,0,0", "0.0039216,0.0039216,0.0039216",
                    "--keep_aspect_ratio"),
        YOLO_PICTURES, scores_from=4,
    ),
}  # fmt: skip


# --------------------------------------------------------------------------- tools


@dataclass
class ToolRun:
    """One command run in a subprocess: exit code, wall and CPU seconds, peak RSS.

    ``cpu_s`` and ``peak_rss_mb`` come from ``os.wait4`` (the child and every
    descendant it waited for); ``load`` is the 1-minute load average at the start.
    """

    returncode: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    load: float
    log: Path


def run_tool(
    cmd: Sequence[str], cwd: Path, log: Path, env: Mapping[str, str] | None = None
) -> ToolRun:
    """Run ``cmd`` in ``cwd``, its output appended to ``log``, and measure it."""
    load = os.getloadavg()[0]
    with log.open("ab") as out:
        out.write(f"\n$ {' '.join(cmd)}\n".encode())
        out.flush()
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, env=dict(env) if env else None, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        except BaseException:  # interrupted: stop the command and what it started
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait()
            raise
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return ToolRun(
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024.0,
        load=load,
        log=log,
    )


class ToolError(RuntimeError):
    """A command of either toolchain failed; the message holds its log tail."""


def checked(run: ToolRun, what: str) -> ToolRun:
    """``run`` itself, or a :class:`ToolError` with its log tail."""
    if run.returncode != 0:
        text = run.log.read_text(errors="replace").replace("\r", "\n")
        tail = "\n".join([ln for ln in text.splitlines() if ln.strip()][-15:])
        raise ToolError(f"{what} failed (exit {run.returncode}; log {run.log}):\n{tail}")
    return run


def sophon_command() -> list[str]:
    """How to start our CLI: the ``sophon`` script beside this Python, else on PATH."""
    beside = Path(sys.executable).with_name("sophon")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("sophon")
    if found is None:
        raise SystemExit("the 'sophon' command is not installed; run 'make test' first")
    return [found]


def sophon(args: Sequence[str], cwd: Path, log: Path) -> ToolRun:
    """Run one ``sophon`` subcommand."""
    return run_tool([*sophon_command(), *args], cwd, log)


@dataclass(frozen=True)
class Official:
    """The official TPU-MLIR toolchain in a venv (its ``bin`` first on PATH)."""

    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self) -> dict[str, str]:
        path = f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"
        return {**os.environ, "PATH": path}

    def run(self, tool: str, args: Sequence[str], cwd: Path, log: Path) -> ToolRun:
        """Run one of its commands (``model_transform``, ``run_calibration``, …)."""
        return run_tool([str(self.bin / tool), *args], cwd, log, self.env())


def stop_on_sigterm() -> None:
    """Make SIGTERM unwind like Ctrl-C, so a running command is stopped too."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def official_toolchain(disabled: bool = False) -> Official | None:
    """The toolchain ``SOPHON_TPU_MLIR_VENV`` names, or None when unset/disabled."""
    venv = os.environ.get(VENV_VARIABLE)
    if disabled or not venv:
        return None
    tool = Path(venv) / "bin" / "model_transform"
    if not tool.is_file():
        raise SystemExit(f"{VENV_VARIABLE}={venv} holds no bin/model_transform")
    return Official(Path(venv))


def official_note(official: Official | None) -> str:
    """One line saying whether the official columns were run."""
    if official is None:
        return (
            f"official columns not run: set {VENV_VARIABLE} to a TPU-MLIR venv to enable "
            f"them (see benchmarks/README.md)"
        )
    return f"official: TPU-MLIR from {official.venv}"


# --------------------------------------------------------------------------- inputs


def yolo_style(folder: Path) -> Path:
    """Build the e2e tests' YOLO-style model (same file, loaded by path)."""
    spec = importlib.util.spec_from_file_location("yolo_model", ROOT / "tests/e2e/yolo_model.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("tests/e2e/yolo_model.py is missing")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    path: Path = mod.build_yolo_style(folder / "yolo_style.onnx", 640, 0)
    return path


def model_file(case: Case, folder: Path) -> Path:
    """The ONNX file of ``case`` (cached rapidocr model, or the YOLO built here)."""
    if case.name == "yolo":
        return yolo_style(folder)
    return rapidocr_model(case.name)


def case_folder(work: Path, name: str) -> tuple[Case, Path, Path, Path]:
    """Model ``name``'s case, its folder under ``work`` (made), command log and ONNX file."""
    case = CASES[name]
    folder = work / name
    folder.mkdir(exist_ok=True)
    return case, folder, folder / "commands.log", model_file(case, folder)


def official_model_file(model: Path, folder: Path) -> Path:
    """``model`` itself, or a copy with IR version 9 if it is newer (official
    toolchain's onnxruntime 1.16 reads no newer model)."""
    import onnx

    proto = onnx.load(str(model))
    if proto.ir_version <= OFFICIAL_MAX_IR:
        return model
    proto.ir_version = OFFICIAL_MAX_IR
    copy = folder / f"{model.stem}_ir{OFFICIAL_MAX_IR}.onnx"
    onnx.save(proto, str(copy))
    return copy


def picture_folder(folder: Path) -> Path:
    """Every scikit-image picture copied into ``folder/pictures`` (the dataset)."""
    target = folder / "pictures"
    target.mkdir(parents=True, exist_ok=True)
    for path in sample_images():
        if not (target / path.name).is_file():
            shutil.copyfile(path, target / path.name)
    return target


def selected_pictures(folder: Path, count: int) -> list[str]:
    """The names of the pictures calibration uses (TPU-MLIR's order)."""
    from sophonc.calibration.dataset import select_dataset

    return [p.name for p in select_dataset(folder, count)]


def as_f64(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(x, dtype=np.float64)


def cosine(got: npt.ArrayLike, want: npt.ArrayLike) -> float:
    """Cosine of two tensors, flattened, in float64."""
    return cosine_similarity(as_f64(got).ravel(), as_f64(want).ravel())


@dataclass
class Scores:
    """Per-picture figures of one (tool, mode): output cosines and bit-exactness."""

    whole: list[float] = field(default_factory=list)
    part: list[float] = field(default_factory=list)
    exact: list[bool] = field(default_factory=list)


def compare_outputs(
    case: Case,
    names: Sequence[str],
    got: Mapping[str, npt.ArrayLike],
    want: Mapping[str, npt.ArrayLike],
    into: Scores,
) -> None:
    """Append the cosine of ``got`` against ``want`` (the worst output if several)."""
    whole = [cosine(got[n], want[n]) for n in names]
    into.whole.append(min(whole))
    if case.scores_from is not None:
        k = case.scores_from
        into.part.append(
            min(cosine(as_f64(got[n])[..., k:], as_f64(want[n])[..., k:]) for n in names)
        )


# --------------------------------------------------------------------------- ours


def ours(
    case: Case, folder: Path, model: Path, pics: Path, tests: Sequence[Path], log: Path
) -> tuple[dict[str, Scores], dict[Path, Path], dict[Path, Arrays]]:
    """Our transform, calibration and four deploys: the figures per mode, the
    ``<picture>_in_f32.npz`` written for each test picture, and our F32 top-level
    outputs for each."""
    name = case.name
    transform = ["transform", "--model_name", name, "--model_def", str(model), *case.flags,
                 "--test_input", str(tests[0]), "--mlir", f"{name}.mlir"]  # fmt: skip
    calibrate = ["calibrate", f"{name}.mlir", "--dataset", str(pics), "--input_num",
                 str(CALIBRATION_PICTURES), "-o", f"{name}_cali_table"]  # fmt: skip
    checked(sophon(transform, folder, log), f"sophon transform ({name})")
    checked(sophon(calibrate, folder, log), f"sophon calibrate ({name})")
    top = load_module(folder / f"{name}.mlir")
    outputs = [v.name for v in top.graph.outputs]
    interpreter = Interpreter(top)
    npz: dict[Path, Path] = {}
    feeds: list[Arrays] = []
    references: list[Arrays] = []
    for pic in tests:
        arrays = build_inputs([pic], top.graph.inputs)
        path = folder / f"{pic.stem}_in_f32.npz"
        write_npz(path, arrays)
        npz[pic] = path
        feeds.append(arrays)
        references.append(interpreter.run(arrays))
    backend = load_backend(CHIP)
    results: dict[str, Scores] = {}
    for mode in OUR_MODES:
        module = load_module(folder / f"{name}.mlir")
        table = folder / f"{name}_cali_table" if mode == "INT8" else None
        request = DeployRequest(quantize=mode, calibration_table=table)
        deployed = deploy(module, backend, request, None, None, lambda _step: None)
        (folder / f"{name}_{mode.lower()}.bmodel").write_bytes(deployed.bmodel)
        scores = results[mode] = Scores()
        for arrays, reference in zip(feeds, references, strict=True):
            program = backend.run_program(deployed.program, arrays)
            simulated = backend.simulate(deployed.bmodel, arrays)
            scores.exact.append(
                all(
                    n in simulated
                    and simulated[n].shape == program[n].shape
                    and np.array_equal(simulated[n], program[n], equal_nan=True)
                    for n in outputs
                )
            )
            compare_outputs(case, outputs, program, reference, scores)
        print(f"  ours {name} {mode}: done", file=sys.stderr)
    return results, npz, dict(zip(tests, references, strict=True))


# --------------------------------------------------------------------------- official


def official_prefix(case: Case, mode: str) -> str:
    """TPU-MLIR's file prefix of a deploy: ``<model>_<chip>_<mode>[_sym]``."""
    prefix = f"{case.official_name}_{CHIP}_{mode.lower()}"
    return prefix + "_sym" if mode == "INT8" else prefix


def output_of(
    arrays: Mapping[str, npt.NDArray[np.generic]], name: str, shape: tuple[int, ...]
) -> npt.NDArray[np.generic]:
    """The official program's net output for the top-level output ``name``.

    Its lowering may rename the last op (``<name>__softmax_reshape``) and adds the
    F32 cast ``…_f32`` that is the net output: among the tensors whose name starts
    with ``name`` and whose shape is ``shape``, the F32 cast if there is one.
    """
    found = [k for k in arrays if k.startswith(name)]
    found = [k for k in found if arrays[k].shape == shape] or found
    if not found:
        raise ToolError(f"the official program's outputs hold nothing named like '{name}'")
    casts = [k for k in found if k.endswith("_f32")]
    return arrays[min(casts or found, key=len)]


def paired(
    theirs: Mapping[str, npt.NDArray[np.generic]], mine: Mapping[str, npt.NDArray[np.generic]]
) -> list[tuple[npt.NDArray[np.generic], npt.NDArray[np.generic]]]:
    """The outputs of two runs side by side: by name, or in order if the names differ."""
    if set(theirs) == set(mine):
        return [(theirs[n], mine[n]) for n in theirs]
    return list(zip(theirs.values(), mine.values(), strict=True))


@dataclass
class OfficialResult:
    """The official figures per mode and the preprocessing check."""

    scores: dict[str, Scores]
    input_check: str


def official_run(
    official: Official,
    case: Case,
    folder: Path,
    model: Path,
    pics: Path,
    tests: Sequence[Path],
    npz: Mapping[Path, Path],
    our_tops: Mapping[Path, Arrays],
    log: Path,
) -> OfficialResult:
    """The official transform, calibration, deploys, and its programs' outputs."""
    name = case.official_name
    source = official_model_file(model, folder)
    transform = ["--model_name", name, "--model_def", str(source), *case.flags, "--test_input",
                 str(tests[0]), "--test_result", f"{name}_top_outputs.npz",
                 "--mlir", f"{name}.mlir"]  # fmt: skip
    calibrate = [f"{name}.mlir", "--dataset", str(pics), "--input_num",
                 str(CALIBRATION_PICTURES), "-o", f"{name}_cali_table"]  # fmt: skip
    checked(official.run("model_transform", transform, folder, log),
            f"official model_transform ({case.name})")  # fmt: skip
    theirs = read_npz(folder / f"{name}_in_f32.npz")
    mine = read_npz(npz[tests[0]])
    same_keys = sorted(theirs) == sorted(mine)
    diff = (
        max(float(np.max(np.abs(as_f64(theirs[k]) - as_f64(mine[k])))) for k in mine if k in theirs)
        if same_keys
        else float("nan")
    )
    equal = same_keys and all(np.array_equal(theirs[k], mine[k]) for k in mine)
    input_check = (
        f"{tests[0].name}: our input npz {'equals' if equal else 'DIFFERS from'} "
        f"the official model_transform's (max |diff| {diff:.3g})"
    )
    checked(official.run("run_calibration", calibrate, folder, log),
            f"official run_calibration ({case.name})")  # fmt: skip

    def runner(program: str, inputs: Path, out: Path) -> Arrays:
        args = ["--model", program, "--input", str(inputs), "--output", str(out)]
        checked(official.run("model_runner", args, folder, log), f"official model_runner {program}")
        return read_npz(out)

    tops: dict[Path, Arrays] = {}
    agree: list[float] = []
    for pic in tests:
        out = folder / f"{name}_{pic.stem}_top.npz"
        tops[pic] = runner(f"{name}.mlir", npz[pic], out)
        agree.append(min(cosine(a, b) for a, b in paired(tops[pic], our_tops[pic])))
    results: dict[str, Scores] = {}
    for mode in OFFICIAL_MODES:
        args = ["--mlir", f"{name}.mlir", "--quantize", mode, "--processor", CHIP,
                "--model", f"{name}_{mode.lower()}.bmodel", "--debug"]  # fmt: skip
        if mode == "INT8":
            args += ["--calibration_table", f"{name}_cali_table"]
        checked(
            official.run("model_deploy", args, folder, log),
            f"official model_deploy {mode} ({case.name})",
        )
        program = f"{official_prefix(case, mode)}_tpu.mlir"
        scores = results[mode] = Scores()
        for pic in tests:
            out = folder / f"{name}_{pic.stem}_{mode.lower()}.npz"
            got = runner(program, npz[pic], out)
            top = tops[pic]
            names = list(top)
            outs = {n: output_of(got, n, top[n].shape) for n in names}
            compare_outputs(case, names, outs, top, scores)
        print(f"  official {case.name} {mode}: done", file=sys.stderr)
    input_check += (
        f"; its F32 top-level outputs against ours: min cosine {min(agree):.7f} "
        f"over {len(agree)} pictures"
    )
    return OfficialResult(results, input_check)


# --------------------------------------------------------------------------- report


def print_table(rows: list[list[str]], left: int = 1) -> None:
    """Print ``rows`` (the first is the header) in aligned columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        cells = zip(r, widths, strict=True)
        print("  ".join(c.ljust(w) if j < left else c.rjust(w) for j, (c, w) in enumerate(cells)))
        if i == 0:
            print("  ".join("-" * w for w in widths))


def mean_min(values: Sequence[float]) -> list[str]:
    if not values:
        return ["not run", "not run"]
    return [f"{statistics.fmean(values):.6f}", f"{min(values):.6f}"]


def report(
    case: Case,
    tests: Sequence[Path],
    mine: Mapping[str, Scores],
    theirs: OfficialResult | None,
    official_failure: str | None,
) -> None:
    """One table per model (two for the YOLO-style model: whole output, scores)."""
    print()
    print(
        f"{case.name}: {case.title}, input {'x'.join(map(str, case.shape))}; test pictures: "
        f"{', '.join(p.name for p in tests)}"
    )
    if theirs is not None:
        print(f"  preprocessing check: {theirs.input_check}")
    if official_failure is not None:
        print(f"  official run failed: {official_failure.splitlines()[0]}")
    parts = [("output", "whole")]
    if case.scores_from is not None:
        parts.append((f"scores part [..., {case.scores_from}:]", "part"))
    for label, attr in parts:
        rows = [["mode", "ours mean", "ours min", "sim==prog", "official mean", "official min"]]
        for mode in OUR_MODES:
            s = mine[mode]
            official = theirs.scores.get(mode) if theirs is not None else None
            rows.append(
                [
                    mode,
                    *mean_min(getattr(s, attr)),
                    f"{sum(s.exact)}/{len(s.exact)}",
                    *mean_min(getattr(official, attr) if official else []),
                ]
            )
        print(f"  cosine of the {label} against the F32 top-level model ({len(tests)} pictures):")
        print_table(rows)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """``--models``, ``--keep`` and ``--no-official``, as every multi-model script takes them."""
    parser.add_argument(
        "--models", default="det,rec,cls,yolo", help="comma list of: " + ", ".join(CASES)
    )
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep it")
    parser.add_argument("--no-official", action="store_true", help="skip the official columns")


def model_names(parser: argparse.ArgumentParser, models: str) -> list[str]:
    """The ``--models`` list, each checked against :data:`CASES`."""
    names = [n.strip() for n in models.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown or not names:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(CASES)}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_common_arguments(parser)
    parser.add_argument("--pictures", type=int, default=4, help="test pictures per model (1-4)")
    parser.add_argument(
        "--all_pictures", action="store_true",
        help="test on every scikit-image picture calibration did not use, after the model's "
        "own (a steadier mean for the classifiers; the text detector reads 0 on text-free ones)",
    )  # fmt: skip
    args = parser.parse_args()
    names = model_names(parser, args.models)
    if not 1 <= args.pictures <= 4:
        parser.error("--pictures must be 1 to 4")
    official = official_toolchain(args.no_official)
    stop_on_sigterm()
    start = time.perf_counter()
    failed = False
    with tempfile.TemporaryDirectory(prefix="sophonc-accuracy-") as tmp:
        work = (args.keep or Path(tmp)).resolve()
        work.mkdir(parents=True, exist_ok=True)
        pics = picture_folder(work)
        calibration = selected_pictures(pics, CALIBRATION_PICTURES)
        print(
            f"calibration: {CALIBRATION_PICTURES} scikit-image pictures in TPU-MLIR's order "
            f"({', '.join(calibration)}), kl with the tune step"
        )
        print(official_note(official))
        for name in names:
            case, folder, log, model = case_folder(work, name)
            chosen = list(case.pictures[: args.pictures])
            if args.all_pictures:
                taken = {*calibration, *chosen}
                chosen += sorted(p.name for p in pics.iterdir() if p.name not in taken)
            tests = [pics / p for p in chosen]
            try:
                mine, npz, tops = ours(case, folder, model, pics, tests, log)
            except ToolError as exc:  # report it and go on with the next model
                failed = True
                print(f"\n{name}: sophonc failed, no table: {exc}")
                continue
            theirs: OfficialResult | None = None
            failure: str | None = None
            if official is not None:
                try:
                    theirs = official_run(
                        official, case, folder, model, pics, tests, npz, tops, log
                    )
                except ToolError as exc:
                    failure = str(exc)
                    print(failure, file=sys.stderr)
            report(case, tests, mine, theirs, failure)
        if args.keep:
            print(f"\nwork folder kept: {work}")
    minutes = (time.perf_counter() - start) / 60
    print(
        f"\nsim==prog: pictures where the simulated bmodel equals the lowered program bit for "
        f"bit; cosines are each tool's program against its own F32 top-level model; "
        f"{minutes:.0f} min"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
