"""The ``sophon`` command line and TPU-MLIR's command names (see :mod:`sophonc.cli.main`)."""
