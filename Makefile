# Every target builds .venv from nothing when it is missing; only python3 is needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck unit bench emulator clean

$(STAMP): requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m sync demo

test: lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@if ls deploy/*.sh >/dev/null 2>&1; then $(BIN)/shellcheck deploy/*.sh; fi

typecheck: $(STAMP)
	$(BIN)/mypy sync/

unit: $(STAMP)
	$(BIN)/python -m pytest -n 2

bench: $(STAMP)
	$(BIN)/python tests/bench/run_all.py

emulator: $(STAMP)
	$(BIN)/python -m sync emulator

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
