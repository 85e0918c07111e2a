# Every target builds what it needs from nothing; only python3 (3.11 or newer) is needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The demo needs only what the function runs (requirements.txt) plus the emulator, which uses
# nothing more: a small venv of its own, unless the development venv is already there.
DEMO_VENV := .venv-demo
DEMO_STAMP := $(DEMO_VENV)/.installed
# The official oci CLI for the deploy tests, in its own venv: its PyYAML pin conflicts with the
# function's. It needs the same oci SDK (2.189.0) as .venv, so it reuses .venv's copy (~500 MB)
# through a .pth file instead of installing a second one; its own packages come first on sys.path.
OCICLI_STAMP := .venv-ocicli/.installed
# pip shows its progress (downloads, builds) unless QUIET=1.
PIP_FLAGS := $(if $(QUIET),--quiet,--progress-bar on)

.PHONY: demo test venvs lint typecheck unit bench emulator clean

$(STAMP): requirements.txt requirements-dev.txt
	@echo "==> building $(VENV) (the development venv: tests, linters; first time only)"
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install $(PIP_FLAGS) --upgrade pip
	$(BIN)/python -m pip install $(PIP_FLAGS) -r requirements-dev.txt
	touch $(STAMP)

# Pruned as the function image is (tools/prune_oci.py): ~100 MB instead of ~620 MB.
$(DEMO_STAMP): requirements.txt tools/prune_oci.py
	@echo "==> building $(DEMO_VENV) (what the demo runs: requirements.txt; first time only)"
	$(PY) -m venv $(DEMO_VENV)
	$(DEMO_VENV)/bin/python -m pip install $(PIP_FLAGS) -r requirements.txt
	@echo "==> pruning the oci SDK's unused services from $(DEMO_VENV)"
	$(DEMO_VENV)/bin/python tools/prune_oci.py \
	  "$$($(DEMO_VENV)/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")"
	touch $(DEMO_STAMP)

$(OCICLI_STAMP): requirements-tools-ocicli.txt $(STAMP)
	@echo "==> building .venv-ocicli (the oci CLI for the deploy tests; first time only)"
	$(PY) -m venv .venv-ocicli
	$(BIN)/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])" \
	  > "$$(.venv-ocicli/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")/dev-venv-oci.pth"
	.venv-ocicli/bin/python -m pip install $(PIP_FLAGS) -r requirements-tools-ocicli.txt
	touch $(OCICLI_STAMP)

# The demo runs with the development venv when it exists, else with the small demo venv.
demo:
	@if [ -f $(STAMP) ]; then $(MAKE) --no-print-directory $(STAMP) && $(BIN)/python -m sync demo; \
	else $(MAKE) --no-print-directory $(DEMO_STAMP) && $(DEMO_VENV)/bin/python -m sync demo; fi

test: venvs
	$(MAKE) --no-print-directory lint typecheck unit

venvs:
	$(MAKE) --no-print-directory $(STAMP)
	$(MAKE) --no-print-directory $(OCICLI_STAMP)

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
	rm -rf $(VENV) $(DEMO_VENV) .venv-ocicli .mypy_cache .pytest_cache .ruff_cache
