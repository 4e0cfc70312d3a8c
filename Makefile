# The two commands a new user needs: `make demo` and `make test`. Everything installs into .venv,
# at the exact versions of requirements.lock (see README, "Installs"). Every pip call passes
# constraints.txt too: it pins torch to the CPU wheel (any other version pulls several GB of CUDA
# packages).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
PIP_ := python -m pip install --disable-pip-version-check -c constraints.txt
PIP := $(BIN)/$(PIP_) -c $(LOCK)
CHROMIUM ?= /usr/bin/chromium
# Two workers: CI's machine has two cores, and the suite's subprocesses wait on I/O and imports.
PYTEST := python -m pytest -n 2
# Throwaway venvs of test-latest and test-oldest.
LATEST := .venv-latest
OLDEST := .venv-oldest

.PHONY: demo test lint typecheck bench clean lock test-latest test-oldest

$(VENV)/.installed: pyproject.toml constraints.txt $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PIP) torch==2.13.0
	$(PIP) -e ".[all]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed $(CHROMIUM)
	$(PIP) -e ".[all,dev]"
	touch $@

# The report tests drive Debian's chromium through playwright (playwright cannot download its own
# browsers here). Installed once with apt-get when missing; a no-op when it is there.
$(CHROMIUM):
	@command -v apt-get >/dev/null || { echo "Install chromium at $(CHROMIUM)"; exit 1; }
	DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null

demo: $(VENV)/.installed
	$(BIN)/whichmodel demo

test: $(VENV)/.installed-dev lint typecheck
	$(BIN)/$(PYTEST)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks tools

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

# The newest versions pyproject.toml allows, in a throwaway venv: the whole suite and mypy. Run it
# before every refresh of the lock; `make lock` runs it first and locks only what passed.
test-latest: $(CHROMIUM)
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/$(PIP_) torch==2.13.0
	$(LATEST)/bin/$(PIP_) --upgrade --upgrade-strategy eager -e ".[all,dev]"
	$(LATEST)/bin/python -m pip freeze --exclude-editable > $(LATEST)/installed.txt
	$(LATEST)/bin/mypy
	$(LATEST)/bin/$(PYTEST) -p no:cacheprovider
	@echo "test-latest passed with:"; cat $(LATEST)/installed.txt

# The lowest versions pyproject.toml allows for every runtime dependency (tools/lowest_requirements.py),
# everything else resolved as usual. mypy is not run: old releases ship other type hints.
test-oldest: $(CHROMIUM)
	rm -rf $(OLDEST)
	$(PYTHON) -m venv $(OLDEST)
	$(PYTHON) tools/lowest_requirements.py pyproject.toml > $(OLDEST)/lowest.txt
	$(OLDEST)/bin/$(PIP_) -c $(OLDEST)/lowest.txt torch==2.13.0
	$(OLDEST)/bin/$(PIP_) -c $(OLDEST)/lowest.txt -e ".[all,dev]"
	$(OLDEST)/bin/python -m pip freeze --exclude-editable > $(OLDEST)/installed.txt
	$(OLDEST)/bin/$(PYTEST) -p no:cacheprovider
	@echo "test-oldest passed with:"; cat $(OLDEST)/installed.txt

# Refresh requirements.lock from the venv that test-latest just tested.
lock: test-latest
	{ echo "# The exact versions 'make demo' and 'make test' install (pip constraints: pip install -c)."; \
	  echo "# Made by 'make lock' from the venv 'make test-latest' tested; Python 3.11, Linux x86_64."; \
	  cat $(LATEST)/installed.txt; } > $(LOCK)

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/compare_overhead.py
	$(BIN)/python benchmarks/bench_harness.py
	$(BIN)/python benchmarks/machine_check.py

clean:
	rm -rf $(VENV) $(LATEST) $(OLDEST) .whichmodel .pytest_cache
