"""Our bmodels against the official TPU-MLIR toolchain (never a dependency of sophonc).

``test_model_tool_reads_our_bmodels`` runs the official ``model_tool --info`` on
bmodels we wrote and checks it prints what :func:`describe` prints; it needs
``SOPHON_TPU_MLIR_VENV`` to name the official venv (for example ``/root/tpumlir``)
and skips otherwise. The sample bmodel that ships inside the official wheel, when
that venv exists, must also be read, described and re-written by us.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from sophonc.formats.bmodel import (
    BModel,
    KernelModule,
    Net,
    SubNet,
    describe,
    load_bmodel,
    read_bmodel,
    save_bmodel,
    write_bmodel,
)

VENV_VARIABLE = "SOPHON_TPU_MLIR_VENV"
DEFAULT_VENV = Path("/root/tpumlir")


def official_venv() -> Path | None:
    named = os.environ.get(VENV_VARIABLE)
    return Path(named) if named else None


def official_samples() -> list[Path]:
    """The .bmodel files shipped inside the official wheel, if it is installed."""
    venv = official_venv() or DEFAULT_VENV
    return sorted(venv.glob("lib/python3*/site-packages/tpu_mlir/**/*.bmodel"))


def model_tool(venv: Path, *args: str) -> list[str]:
    tool = venv / "bin" / "model_tool"
    if not tool.exists():
        pytest.fail(f"{VENV_VARIABLE}={venv} has no bin/model_tool")
    done = subprocess.run(
        [str(tool), *args], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"model_tool {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
    return [line for line in done.stdout.splitlines() if line.strip()]


def variants(sample: BModel) -> dict[str, BModel]:
    """Our sample model and variants that exercise every branch of the summary."""
    detector, head = sample.nets
    stage = detector.stages[0]
    second_shape = dataclasses.replace(stage, ctx_size=stage.ctx_size * 2, coeff_mem=None)
    subs = (
        SubNet(stage.input_tensors, stage.output_tensors, stage.cmd_groups, next_subnet_ids=(1,)),
        SubNet(stage.input_tensors, stage.output_tensors, (), id=1),
    )
    dynamic = dataclasses.replace(head.stages[0], is_dynamic=True, h_w_dynamic=True, core_num=2)
    return {
        "sample": sample,
        "bm1684_two_stages": dataclasses.replace(
            sample,
            chip="BM1684",
            nets=(Net("detector", (stage, second_shape)), head),
            device_num=2,
        ),
        "subnets_dynamic_addr_mode": dataclasses.replace(
            sample,
            nets=(
                Net("detector", (dataclasses.replace(stage, sub_nets=subs),), addr_mode=1),
                Net("head", (dynamic,)),
            ),
            kernel_module=KernelModule("libkernel.so", b"\x01" * 10, mode=1),
        ),
        "no_kernel": dataclasses.replace(sample, kernel_module=None, nets=(head,)),
    }


def test_model_tool_reads_our_bmodels(sample_model: BModel, tmp_path: Path) -> None:
    venv = official_venv()
    if venv is None:
        pytest.skip(f"{VENV_VARIABLE} is not set (it names the official TPU-MLIR venv)")
    for name, model in variants(sample_model).items():
        path = save_bmodel(model, tmp_path / f"{name}.bmodel")
        printed = model_tool(venv, "--info", str(path))
        ours = describe(model)
        assert printed[: len(ours)] == ours, name
        # The same, spelled out for the fields a user compares first.
        assert printed[0] == f"bmodel version: B.{model.version}"
        assert printed[1].startswith(f"chip: {model.chip}")
        kind = "dynamic" if model.nets[0].stages[0].is_dynamic else "static"
        assert f"net 0: [{model.nets[0].name}]  {kind}" in printed
        for net in model.nets:
            for stage in net.stages:
                for tensor in stage.input_tensors:
                    assert any(line.startswith(f"input: {tensor.name}, [") for line in printed)
                for tensor in stage.output_tensors:
                    assert any(line.startswith(f"output: {tensor.name}, [") for line in printed)
    coeff = sample_model.nets[0].stages[0].coeff_mem
    assert coeff is not None
    info = model_tool(venv, "--info", str(tmp_path / "sample.bmodel"))
    assert any(f"(weight: {len(coeff.data)}, " in line for line in info)
    weights = model_tool(venv, "--weight", str(tmp_path / "sample.bmodel"))
    for location in coeff.locations:
        end = location.offset + location.size
        assert f"{location.name} : [{location.offset:#x}, {end:#x})" in weights


def test_official_sample_bmodels_are_read(tmp_path: Path) -> None:
    samples = official_samples()
    if not samples:
        pytest.skip(f"no official TPU-MLIR venv at {official_venv() or DEFAULT_VENV}")
    venv = official_venv()
    for sample in samples:
        model = load_bmodel(sample)
        for net in model.nets:
            for stage in net.stages:
                assert {t.hidden for t in stage.input_tensors} == {1}
                assert {t.hidden for t in stage.output_tensors} == {2}
                assert all(t.shape for t in (*stage.input_tensors, *stage.output_tensors))
        rewritten = write_bmodel(model)
        assert read_bmodel(rewritten) == model
        if venv is not None:
            ours = describe(model)
            assert model_tool(venv, "--info", str(sample))[: len(ours)] == ours
            copy = tmp_path / sample.name
            copy.write_bytes(rewritten)
            assert model_tool(venv, "--info", str(copy))[: len(ours)] == ours
