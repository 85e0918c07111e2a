# Every target builds .venv from nothing when it is missing; only python3 is needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The official oci CLI for the deploy tests, in its own venv: its pins conflict with the function's.
OCICLI_STAMP := .venv-ocicli/.installed

.PHONY: demo test lint typecheck unit bench emulator clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(OCICLI_STAMP): requirements-tools-ocicli.txt
	$(PY) -m venv .venv-ocicli
	.venv-ocicli/bin/python -m pip install --quiet -r requirements-tools-ocicli.txt
	touch $(OCICLI_STAMP)

demo: $(STAMP)
	$(BIN)/python -m sync demo

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if ls deploy/*.sh >/dev/null 2>&1; then $(BIN)/shellcheck deploy/*.sh; fi

typecheck: $(STAMP)
	$(BIN)/mypy sync/

unit: $(STAMP) $(OCICLI_STAMP)
	$(BIN)/python -m sync test tag_policy.yaml tests/policy/
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python tests/bench/run_all.py

emulator: $(STAMP)
	$(BIN)/python -m sync emulator

clean:
	rm -rf $(VENV) .venv-ocicli .mypy_cache .pytest_cache .ruff_cache
