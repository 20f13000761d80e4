"""What a BM1684X can do, as data (read by quantizers, the CLI and the test suite).

Facts from TPU-MLIR's BM1684X lowering: F32/F16/BF16/INT8; symmetric and
asymmetric INT8 with per-channel conv weights and unsigned storage for
non-negative activations; LayerNorm and Softmax stay F16 in
INT8 mode; mixed precision falls back to F16 by default; device memory starts at
``0x1_0000_0000`` for both the coefficients and the activations.
"""

from __future__ import annotations

from sophonc.api import TargetSpec

#: The bmodel header magic, little endian (``EE AA 55 FF``).
BMODEL_MAGIC = bytes((0xEE, 0xAA, 0x55, 0xFF))

#: Start of global memory; TPU-MLIR puts both the coefficient and the activation
#: (context) regions there for a BM1684X net.
GMEM_START_ADDR = 0x1_0000_0000

#: Alignment of every tensor placed in device memory (bytes).
TENSOR_ALIGNMENT = 64

BM1684X_TARGET = TargetSpec(
    chip="bm1684x",
    precisions=frozenset({"F32", "F16", "BF16", "INT8"}),
    quant_schemes=frozenset({"symmetric", "asymmetric"}),
    unsigned_activations=True,
    per_channel_weights=True,
    mixed_fp_types=("F16", "F32"),
    int8_float_ops={"LayerNormalization": "F16", "Softmax": "F16", "LogSoftmax": "F16"},
    container_suffix=".bmodel",
    container_magic=BMODEL_MAGIC,
)
