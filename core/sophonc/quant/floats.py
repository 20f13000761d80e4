"""F32 → F16 / BF16 rounding as the Sophon chips (and TPU-MLIR) perform it.

F16/BF16 interpreters compute in F32 and round each op's output with these functions
. They work on the raw bit patterns, vectorised, so the same code serves
the simulators and documents exactly what happens at ties, denormals, overflow and NaN.
Inputs are first converted to float32: a float64 argument is rounded twice
(to float32, then to 16 bits), as on the chip.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import numpy.typing as npt

from sophonc.quant.rounding import RoundMode, right_shift_round

U16Array = npt.NDArray[np.uint16]

#: TPU-MLIR's F16 pattern for every NaN (a quiet NaN with all mantissa bits set).
F16_NAN = 0x7FFF
#: The canonical quiet-NaN bits for BF16 (sign added), as ml_dtypes writes them.
BF16_QNAN = 0x7FC0
#: CV18xx's replacement for any BF16 result whose exponent is all ones.
CV18XX_BF16_MAX = 0x7F7F


def _bits32(x: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The float32 bit pattern of ``x`` as non-negative int64 numbers."""
    return np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.int64)


def f32_to_f16_bits(x: npt.ArrayLike) -> U16Array:
    """F16 bit patterns of ``x`` rounded to nearest, ties to even (IEEE default).

    The 24-bit significand is shifted right with HALF_TO_EVEN onto the F16 grid: by 13
    for F16 normals, by more for F16 denormals (exponent below -14), so denormals round
    correctly too; a carry out of the mantissa bumps the exponent, and exponents past
    15 (float32 inf included) become ±inf. Identical to numpy's ``astype(float16)``
    except for NaN: every NaN maps to 0x7FFF as in TPU-MLIR, which is still a NaN but
    makes our dumps byte-identical to TPU-MLIR's instead of carrying the input's payload and sign.
    """
    bits = _bits32(x)
    sign = (bits >> 31) << 15
    biased = (bits >> 23) & 0xFF
    mantissa = bits & 0x7FFFFF
    significand = np.where(biased > 0, mantissa | 0x800000, mantissa)
    exponent = np.maximum(biased, 1) - 127  # value = significand · 2^(exponent-23)
    shift = np.clip(-1 - exponent, 13, 30)  # 13 for normals; 30 already rounds to 0
    rounded = right_shift_round(significand, shift, RoundMode.HALF_TO_EVEN)
    normal = exponent >= -14
    magnitude = np.where(normal, ((exponent + 15) << 10) + rounded - 1024, rounded)
    magnitude = np.where(exponent > 15, 0x7C00, np.minimum(magnitude, 0x7C00))
    out = np.where((biased == 0xFF) & (mantissa != 0), F16_NAN, sign | magnitude)
    return out.astype(np.uint16)


def f32_to_f16(x: npt.ArrayLike) -> npt.NDArray[np.float16]:
    """``x`` rounded to F16 per :func:`f32_to_f16_bits`, as a float16 array.

    The bit-level function above is the definition; this is the same result from
    numpy's own conversion (identical but for NaN's bits, set afterwards), about
    twenty times faster: every F16/BF16 program converts every tensor.
    """
    values = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):  # beyond F16's range is ±inf, as IEEE rounds
        out = values.astype(np.float16)
    nan = np.isnan(values)
    if nan.any():
        out.view(np.uint16)[nan] = F16_NAN
    return out


def f32_to_bf16_bits(x: npt.ArrayLike) -> U16Array:
    """BM168x BF16 bit patterns: round to nearest even on the top 16 bits (§3.7).

    ``(bits + 0x7FFF + lsb) >> 16`` with ``lsb`` the lowest kept bit; overflow past the
    largest finite value gives ±inf, as IEEE rounding does. NaN is not covered by
    TPU-MLIR's rule; rounding its bits could turn it into inf, so every NaN becomes the quiet NaN
    ``sign | 0x7FC0``, the same as ml_dtypes' bfloat16 cast.
    """
    bits = _bits32(x)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    quiet_nan = ((bits >> 16) & 0x8000) | BF16_QNAN
    is_nan = (bits & 0x7FFFFFFF) > 0x7F800000
    return np.where(is_nan, quiet_nan, rounded).astype(np.uint16)


def f32_to_bf16(x: npt.ArrayLike) -> npt.NDArray[np.generic]:
    """``x`` rounded to BF16 as BM168x does, as an ml_dtypes bfloat16 array.

    Same result as :func:`f32_to_bf16_bits` (NaN included), through ml_dtypes'
    conversion, which rounds to nearest even in compiled code.
    """
    values = np.asarray(x, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN and overflow are defined
        result: npt.NDArray[np.generic] = values.astype(ml_dtypes.bfloat16)
    return result


def f32_to_bf16_cv18xx_bits(x: npt.ArrayLike) -> U16Array:
    """CV18xx ("is_tpu") BF16 bit patterns (§3.7).

    ``bits += 0x7FFF + ((bits >> 16) & 1)`` in 32-bit unsigned arithmetic (it wraps, as
    in C), keep the top 16 bits, and replace any result whose exponent field is 0xFF by
    0x7F7F, the largest positive finite BF16. Taken literally from TPU-MLIR's rule: the
    sign is not kept, so -inf and negative overflow also become +max, and NaNs become
    0x7F7F (or +0 for negative NaNs whose addition wraps past 2^32). For finite inputs
    that do not overflow this is plain round-to-nearest-even.
    """
    bits = _bits32(x)
    top = ((bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFFFFFF) >> 16
    all_ones = (top & 0x7F80) == 0x7F80
    return np.where(all_ones, CV18XX_BF16_MAX, top).astype(np.uint16)


def f32_to_bf16_cv18xx(x: npt.ArrayLike) -> npt.NDArray[np.generic]:
    """``x`` rounded to BF16 as CV18xx does, as an ml_dtypes bfloat16 array."""
    return f32_to_bf16_cv18xx_bits(x).view(ml_dtypes.bfloat16)
