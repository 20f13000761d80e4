"""Every chip op kernel; importing this package registers them."""

from sophonc_backend_bm1684x.program.kernels import (
    casts,
    conv,
    eltwise,
    float_op,
    lut,
    matmul,
    movement,
    pool,
)

__all__ = ["casts", "conv", "eltwise", "float_op", "lut", "matmul", "movement", "pool"]
