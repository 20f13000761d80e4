"""Mixed-precision search: which layers to keep in float so INT8 reaches a target cosine.

``sophon qtable`` (TPU-MLIR's ``run_qtable``) measures every layer's harm, tries
other calibration methods for the harmful ones, then finds the fewest float
layers that bring the chip program's outputs to ``--expected_cos``.
"""
