"""The tune step's fake quantization and its TPU-MLIR visiting order."""

from __future__ import annotations

import numpy as np

from sophonc.calibration.tune import fake_quant


def test_fake_quant_rounds_half_to_even_and_saturates() -> None:
    th = 127.0  # one step per unit
    x = np.array([0.5, 1.5, -2.5, 200.0, -300.0], np.float32)
    np.testing.assert_array_equal(fake_quant(x, th), [0.0, 2.0, -2.0, 127.0, -128.0])


def test_fake_quant_of_a_scalar_weight() -> None:
    # YOLO exports carry 0-d constants (a stride, an exponent): they must not crash.
    assert fake_quant(np.float32(0.3), 1.0) == np.float32(np.rint(0.3 * 127) / 127)
