"""Symmetric INT8 quantization: zero point 0, scale from the calibrated threshold."""
