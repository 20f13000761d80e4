"""What every quantizer shares: per-node precision, qtables, range isolation.

Quantizer plugins decide *how* a tensor maps to integers; the rules here decide
*which* nodes run in INT8 at all, identically for every scheme, from the
target's facts, a user's qtable and the calibrated ranges.
"""
