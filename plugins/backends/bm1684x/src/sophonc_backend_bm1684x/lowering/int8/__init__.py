"""INT8 lowering rules, one module per op family; importing registers them."""

from sophonc_backend_bm1684x.lowering.int8 import conv, eltwise, lut, matmul, movement, pool, reduce

__all__ = ["conv", "eltwise", "lut", "matmul", "movement", "pool", "reduce"]
