"""A small but complete bmodel shared by the container tests.

Two nets on BM1684X: the first with two inputs and two outputs of different dtypes,
quantized outputs, weights with named locations, two command groups and a JSON
profile; the second a bf16/int32 net whose weights and command group have the same
bytes as the first's (so the blob must hold them once).
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from sophonc.formats.bmodel import (
    HIDDEN_INPUT,
    HIDDEN_OUTPUT,
    BModel,
    BModelDType,
    CmdGroup,
    CoeffLocation,
    CoeffMem,
    KernelModule,
    Net,
    NetStage,
    TensorInfo,
    create_time,
    neuron_size_of,
    version_string,
)

GMEM = 0x1_0000_0000
COEFF_ADDR = GMEM + 0x10_0000


def weights() -> bytes:
    """4096 + 1024 bytes of weights that contain no long run of one byte."""
    return bytes((i * 7 + 3) % 251 for i in range(5120))


def sample_coeff() -> CoeffMem:
    return CoeffMem(
        COEFF_ADDR,
        weights(),
        (CoeffLocation("conv_w", 0, 4096), CoeffLocation("conv_b", 4096, 1024)),
    )


def build_sample_model() -> BModel:
    """Built from fresh objects each call: equal payloads are equal, never identical."""
    shared_group = CmdGroup.of(5, 3, b"\xb1" * 320, b"\xd1" * 288)
    first = NetStage(
        input_tensors=(
            TensorInfo("images", BModelDType.F32, (1, 3, 8, 8), GMEM, 768, hidden=HIDDEN_INPUT),
            TensorInfo(
                "mask",
                BModelDType.U8,
                (1, 1, 8, 8),
                GMEM + 0x1000,
                64,
                scale=0.5,
                zero_point=3,
                hidden=HIDDEN_INPUT,
                index=1,
            ),
        ),
        output_tensors=(
            TensorInfo(
                "logits_Conv",
                BModelDType.I8,
                (1, 16, 8, 8),
                GMEM + 0x2000,
                1024,
                scale=0.0123,
                zero_point=-5,
                hidden=HIDDEN_OUTPUT,
            ),
            TensorInfo(
                "feat",
                BModelDType.F16,
                (1, 4, 10, 10),
                GMEM + 0x3000,
                800,
                hidden=HIDDEN_OUTPUT,
                index=1,
            ),
        ),
        ctx_addr=GMEM,
        ctx_size=0x4000,
        coeff_mem=sample_coeff(),
        cmd_groups=(shared_group, CmdGroup.of(2, 0, b"\xb2" * 64, b"")),
        net_profile=json.dumps({"compiler": "sophonc", "layers": 3}).encode(),
    )
    second = NetStage(
        input_tensors=(TensorInfo("x", BModelDType.BF16, (2, 4), GMEM, 16, hidden=HIDDEN_INPUT),),
        output_tensors=(
            TensorInfo("y", BModelDType.I32, (2, 4), GMEM + 0x40, 32, hidden=HIDDEN_OUTPUT),
        ),
        ctx_addr=GMEM,
        ctx_size=0x9000,
        coeff_mem=sample_coeff(),
        cmd_groups=(CmdGroup.of(5, 3, b"\xb1" * 320, b"\xd1" * 288),),
    )
    nets = (Net("detector", (first,)), Net("head", (second,)))
    return BModel(
        chip="BM1684X",
        version=version_string("sophonc-0.1.0"),
        time=create_time(1_700_000_000),
        nets=nets,
        neuron_size=neuron_size_of(nets),
        kernel_module=KernelModule("libbm1684x_kernel_module.so", b"\x7fELF" + b"\x00" * 60),
    )


@pytest.fixture
def sample_model() -> BModel:
    return build_sample_model()


@pytest.fixture
def build_model() -> Callable[[], BModel]:
    """The builder itself, for tests that need a second, separately built model."""
    return build_sample_model
