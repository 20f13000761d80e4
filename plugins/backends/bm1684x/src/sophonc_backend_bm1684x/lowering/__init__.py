"""Top-level (quantized) IR → BM1684X program."""
