"""Plugin discovery: drivers chosen by name, hooks every plugin may implement.

Only :mod:`sophonc.plugins.registry` imports stevedore and only
:mod:`sophonc.plugins.manager` / :mod:`sophonc.plugins.hookspecs` import pluggy,
so either library can be swapped without touching the rest of core.
"""
