"""The integer and low-precision float arithmetic shared by every Sophon chip.

Rounding modes, saturation, multiplier/shift requantization, lookup tables, F16/BF16
rounding and quantization-parameter rules, written once so that chip backends, their
simulators and the quantizers compute the same bits as TPU-MLIR
(TPU-MLIR's).
"""

from sophonc.quant.floats import (
    f32_to_bf16,
    f32_to_bf16_bits,
    f32_to_bf16_cv18xx,
    f32_to_bf16_cv18xx_bits,
    f32_to_f16,
    f32_to_f16_bits,
)
from sophonc.quant.lut import apply_lut, build_lut, lut_index, lut_inputs
from sophonc.quant.multipliers import (
    bm1684_right_shift_num,
    cv18xx_rshift_and_multiplier,
    qdm_multiplier,
    scale_and_shift,
    scale_and_shift_positive,
)
from sophonc.quant.params import (
    AsymmetricParams,
    QuantizedWeight,
    asymmetric_params,
    quantize_bias,
    quantize_weight_per_channel,
    symmetric_scale,
)
from sophonc.quant.requant import (
    along_axis,
    apply_multiplier_shift,
    apply_multiplier_shift_cv18xx,
    apply_qdm,
    checked_product,
)
from sophonc.quant.rounding import (
    RoundMode,
    as_int64,
    right_shift_round,
    round_to_int,
    saturate,
    to_int8,
    to_uint8,
)

__all__ = [
    "AsymmetricParams",
    "QuantizedWeight",
    "RoundMode",
    "along_axis",
    "apply_lut",
    "apply_multiplier_shift",
    "apply_multiplier_shift_cv18xx",
    "apply_qdm",
    "as_int64",
    "asymmetric_params",
    "bm1684_right_shift_num",
    "build_lut",
    "checked_product",
    "cv18xx_rshift_and_multiplier",
    "f32_to_bf16",
    "f32_to_bf16_bits",
    "f32_to_bf16_cv18xx",
    "f32_to_bf16_cv18xx_bits",
    "f32_to_f16",
    "f32_to_f16_bits",
    "lut_index",
    "lut_inputs",
    "qdm_multiplier",
    "quantize_bias",
    "quantize_weight_per_channel",
    "right_shift_round",
    "round_to_int",
    "saturate",
    "scale_and_shift",
    "scale_and_shift_positive",
    "symmetric_scale",
    "to_int8",
    "to_uint8",
]
