"""Built-in ONNX converters, one module per op family; importing registers them."""

from sophonc_frontend_onnx.converters import (
    activation,
    conv,
    elementwise,
    indexing,
    linalg,
    misc,
    movement,
    norm,
    pool,
    reduce,
    resize,
    shape,
    softmax,
)

__all__ = [
    "activation",
    "conv",
    "elementwise",
    "indexing",
    "linalg",
    "misc",
    "movement",
    "norm",
    "pool",
    "reduce",
    "resize",
    "shape",
    "softmax",
]
