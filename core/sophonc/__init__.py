"""sophonc: a plugin-based neural-network compiler for Sophgo's Sophon TPUs.

The core holds the IR, the passes, the numpy reference interpreter, the plugin
registry and the `sophon` command line. Frontends, quantizers and chip backends
are separate distributions found through entry points. Hook plugins mark their
functions with ``sophonc.hookimpl``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # pluggy is imported only by sophonc.plugins; load it when a plugin asks.
    if name == "hookimpl":
        from sophonc.plugins.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module 'sophonc' has no attribute '{name}'")
