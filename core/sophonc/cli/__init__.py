"""The ``sophon`` command line and TPU-MLIR's command names (see :mod:`sophonc.cli.main`).

Importing this package caps the BLAS thread pools before numpy loads: our kernels
call many small matrix products, and with two or more threads per process on a
busy machine they slow down several times over (an INT8 simulation of PP-OCRv4 det
went from 0.5 s to 1.5 s with another job running). ``SOPHON_THREADS`` sets the
cap (default 1); explicit ``OPENBLAS_NUM_THREADS``/``OMP_NUM_THREADS``/
``MKL_NUM_THREADS`` win.
"""

import os as _os

_threads = _os.environ.get("SOPHON_THREADS", "1")
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_variable, _threads)
