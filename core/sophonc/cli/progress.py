"""Progress bars on stderr for long loops (hidden when stderr is not a terminal)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress(total: int, what: str, unit: str = "sample") -> Iterator[Callable[[], None]]:
    """A ``tick()`` function advancing a bar of ``total`` steps labelled ``what``."""
    bar = tqdm(total=total, desc=what, unit=unit, file=sys.stderr, disable=None, leave=False)
    try:
        yield lambda: bar.update(1)
    finally:
        bar.close()
