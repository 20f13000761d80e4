"""The canonicalisation passes, one per module."""
