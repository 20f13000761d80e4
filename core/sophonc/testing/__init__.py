"""Test support that ships with core: real models from PyPI wheels, and the
conformance suite every backend plugin runs against itself
(:mod:`sophonc.testing.suite` with the fixtures of :mod:`sophonc.testing.plugin`)."""
