"""Built-in op families; importing this package registers them all.

One module per family (see ``docs/ops.md`` for the catalogue). The registry imports
this package lazily, on the first schema lookup.
"""

from sophonc.ops.library import (
    activation,
    cast,
    conv,
    conv_transpose,
    elementwise,
    generators,
    indexing,
    linalg,
    logic,
    movement,
    norm,
    pool,
    rearrange,
    reduce,
    resize,
    selection,
    softmax,
    unary,
)

__all__ = [
    "activation",
    "cast",
    "conv",
    "conv_transpose",
    "elementwise",
    "generators",
    "indexing",
    "linalg",
    "logic",
    "movement",
    "norm",
    "pool",
    "rearrange",
    "reduce",
    "resize",
    "selection",
    "softmax",
    "unary",
]
