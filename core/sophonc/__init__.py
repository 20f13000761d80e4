"""sophonc: a plugin-based neural-network compiler for Sophgo's Sophon TPUs.

The core holds the IR, the passes, the numpy reference interpreter, the plugin
registry and the `sophon` command line. Frontends, quantizers and chip backends
are separate distributions found through entry points.
"""

__version__ = "0.1.0"
