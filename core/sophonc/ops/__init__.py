"""Core operator set: one schema per op with its shape rule and numpy kernel.

Importing this package registers every built-in op (see ``docs/ops.md`` for the
catalogue and each op's exact semantics).
"""

from sophonc.ops.registry import OpSchema, get_schema, known_ops, register_op

__all__ = ["OpSchema", "get_schema", "known_ops", "register_op"]
