"""File formats sophonc writes and reads: the containers a chip runtime loads.

Each format lives in its own subpackage (``sophonc.formats.bmodel``) and is plain
data in, bytes out: no IR, no backend, so a backend plugin and the ``sophon run``
command can share one implementation of the container.
"""

from __future__ import annotations
