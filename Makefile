# The two commands of the README. Both create .venv/ if missing and install
# everything in one pip command over requirements/dev.txt.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: test demo lint bench clean

$(STAMP): requirements/dev.txt setup.cfg $(wildcard plugins/*/*/pyproject.toml)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements/dev.txt
	touch $(STAMP)

test: $(STAMP)
	$(VENV)/bin/ruff check core plugins tests benchmarks
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q

demo: $(STAMP)
	$(PY) -m sophonc.demo

# One BLAS thread, as the sophon command uses (SOPHON_THREADS; see core/sophonc/cli).
bench: export OPENBLAS_NUM_THREADS ?= 1
bench: export OMP_NUM_THREADS ?= 1
bench: $(STAMP)
	$(PY) benchmarks/interpreter_vs_onnxruntime.py
	$(PY) benchmarks/deploy_accuracy.py
	$(PY) benchmarks/calibration_and_simulator.py
	$(PY) benchmarks/mixed_search.py

clean:
	rm -rf $(VENV) .demo
