"""Passes over the IR: the pass API, the manager, and the canonicalisation passes.

See :mod:`sophonc.passes.infra` for the API and :mod:`sophonc.passes.pipelines`
for the named pipelines (``canonicalize``) hook plugins may edit.
"""

from sophonc.passes.infra import InPlacePass, PassBase, PassManager, PassResult
from sophonc.passes.pipelines import canonicalize, canonicalize_passes

__all__ = [
    "InPlacePass",
    "PassBase",
    "PassManager",
    "PassResult",
    "canonicalize",
    "canonicalize_passes",
]
