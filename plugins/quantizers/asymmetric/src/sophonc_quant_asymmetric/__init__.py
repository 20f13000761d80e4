"""Asymmetric INT8 quantization: a zero point and a scale per tensor, from its min/max."""
