# The two set-up-and-run commands of the README. Each creates .venv, installs a CPU build of
# torch unless the venv already has a torch (so a CUDA torch installed there first is kept),
# installs gnnkit, and runs.
#
#   make demo                         main job
#   make test                         test suite
#   make test EXTRAS=scatter,test     test suite with the torch-scatter backend too (compiles)
#   make test EXTRAS=scatter,distributed,test   … and the Ray engines of screen and hpopt (CI)

PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
EXTRAS ?= test
PIP = $(VENV)/bin/pip

.PHONY: venv install demo test lint

venv:
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip "setuptools>=64" wheel
	$(VENV)/bin/python -c "import torch" 2>/dev/null || $(PIP) install "$(TORCH)"

# torch-scatter builds against the installed torch, hence --no-build-isolation.
install: venv
	$(PIP) install --no-build-isolation -e ".$(if $(EXTRAS),[$(EXTRAS)])"

demo: EXTRAS =
demo: install
	rm -rf runs/demo
	$(VENV)/bin/gnnkit mol train --out runs/demo

test: install
	$(VENV)/bin/python -m pytest

lint: EXTRAS = test,dev
lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
