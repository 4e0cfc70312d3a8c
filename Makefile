# The two commands a new user needs: `make demo` and `make test`. Everything installs into .venv.
# Every pip call passes constraints.txt: it pins torch to the CPU wheel (any other version pulls
# several GB of CUDA packages).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test lint typecheck bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
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
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/compare_overhead.py
	$(BIN)/python benchmarks/bench_harness.py

clean:
	rm -rf $(VENV) .whichmodel .pytest_cache
