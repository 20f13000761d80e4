"""An out-of-tree plugin distribution, made on disk as pip would install it.

The folder holds a package and its ``.dist-info`` (METADATA + entry_points.txt),
so putting it on ``PYTHONPATH`` makes ``importlib.metadata`` — and through it
stevedore, pluggy and ``sophon plugins`` — see a third party's plugin exactly as
if it had been pip-installed. Nothing in this repository names it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

TOY_PACKAGE = '''
"""A third party's frontend for a one-line text format, and a hook module."""
from __future__ import annotations

from pathlib import Path

import numpy as np

import sophonc
from sophonc.api import Frontend, FrontendOptions
from sophonc.errors import ModelLoadError
from sophonc.ir import Graph, Module, Node, TensorType, Value

OPS = {"relu": ("Relu", lambda a: np.maximum(a, 0)), "neg": ("Neg", np.negative),
       "abs": ("Abs", np.abs)}


def _ops(path: Path) -> list[str]:
    words = path.read_text().split()
    if not words or words[0] != "TOY" or any(w not in OPS for w in words[1:]):
        raise ModelLoadError(f"'{path}' is not a toy model")
    return words[1:]


class ToyFrontend(Frontend):
    name = "toy"
    suffixes = (".toy",)

    def load(self, path: Path, options: FrontendOptions) -> Module:
        shape = tuple(options.input_shapes[0]) if options.input_shapes else (1, 4)
        t = TensorType("f32", shape)
        x = Value("x", t)
        g = Graph("toy", [x])
        cur = x
        for i, word in enumerate(_ops(path)):
            op = OPS[word][0]
            node = Node(op, [cur], [f"t{i}_{op}"], output_types=[t])
            g.append(node)
            cur = node.output
        g.outputs = [cur]
        return Module(options.model_name, g, {"platform": "TOY", "state": "TOP_F32"})

    def reference_outputs(self, path, options, inputs, *, all_tensors=False):
        cur = np.asarray(inputs["x"], np.float32)
        out = {}
        for i, word in enumerate(_ops(path)):
            op, fn = OPS[word]
            cur = fn(cur)
            out[f"t{i}_{op}"] = cur
        return out


@sophonc.hookimpl
def sophon_detect_frontend(path: Path) -> str | None:
    try:
        head = Path(path).read_bytes()[:3]
    except OSError:
        return None
    return "toy" if head == b"TOY" else None
'''


def make_distribution(root: Path) -> Path:
    """Write the ``toyfront`` package and its dist-info under ``root``."""
    pkg = root / "toyfront"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(TOY_PACKAGE))
    info = root / "toyfront-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyfront\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[sophon.frontends]\ntoy = toyfront:ToyFrontend\n\n[sophon.hooks]\ntoy = toyfront\n"
    )
    return root


@pytest.fixture
def toy_site(tmp_path: Path) -> Path:
    """A site folder holding the third-party distribution."""
    return make_distribution(tmp_path / "site")


def _run_sophon(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    script = Path(sys.executable).parent / "sophon"
    return subprocess.run(
        [str(script), *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.fixture
def run_sophon() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_sophon(site, cwd, *args)``: the installed ``sophon`` with ``site`` on the path."""
    return _run_sophon
