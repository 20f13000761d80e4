"""sophonc's conformance suite, run against this backend.

The tests come from :mod:`sophonc.testing.suite`, generated for what
``BM1684X_TARGET`` declares; the ``chip_name`` fixture is in conftest.py. The
plugin is named here, not in conftest.py: pytest only takes ``pytest_plugins``
from the top-level conftest of a run, which this folder's is not in the monorepo.
"""

from __future__ import annotations

from sophonc.testing.suite import *  # noqa: F403

pytest_plugins = ["sophonc.testing.plugin"]
