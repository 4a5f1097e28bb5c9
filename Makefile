# Two commands on a fresh machine: `make demo` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
# constraints.txt pins every transitive dependency to the versions CI has passed with.
PIN    := -c constraints.txt

.DEFAULT_GOAL := help
.PHONY: help demo test check lint format types pytest browser pg-plugins bench clean distclean

help:
	@echo "make demo   - create .venv, install, generate the sample data, run the demo pipeline"
	@echo "make test   - install dev dependencies, run lint, format check, types and the suite"
	@echo "make check  - lint, format check and types only"
	@echo "make bench  - run the benchmarks in bench/ (installs the peers: dlt, pandas, polars, GE, pandera)"
	@echo "make format - rewrite the code with ruff format and ruff's fixes"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Sluiceway needs Python 3.11 or newer; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(PIP) install --quiet $(PIN) -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PIP) install --quiet $(PIN) -e '.[dev]'
	@touch $@

$(VENV)/.installed-bench: $(VENV)/.installed
	$(PIP) install --quiet $(PIN) -e '.[bench]'
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/sluiceway demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(VENV)/.installed-dev
	$(BIN)/mypy

check: lint types

pytest: $(VENV)/.installed-dev browser pg-plugins
	$(BIN)/pytest -n 2 --dist loadgroup

# Reports and the console are tested in a real browser: Debian's Chromium, installed when make
# runs as root on Debian (never a browser download); elsewhere those tests skip with a reason.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get install -y -q chromium >/dev/null 2>&1 || \
		{ apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; \
	else \
		echo "note: chromium is not installed; browser tests will skip (apt-get install chromium)"; \
	fi

# Log-based CDC is tested against a private PostgreSQL cluster with Debian's wal2json output
# plugin, for every installed server version; elsewhere those tests skip with a reason.
pg-plugins:
	@ls /usr/lib/postgresql/*/lib/wal2json.so >/dev/null 2>&1 || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && [ -d /usr/lib/postgresql ]; then \
		for v in $$(ls /usr/lib/postgresql); do \
			apt-get install -y -q postgresql-$$v-wal2json >/dev/null 2>&1 || \
			{ apt-get update -q >/dev/null && apt-get install -y -q postgresql-$$v-wal2json >/dev/null; }; \
		done; \
	else \
		echo "note: wal2json is not installed; CDC tests will skip (apt-get install postgresql-NN-wal2json)"; \
	fi

test: check pytest

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(VENV)/.installed-bench
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .sluiceway .pytest_cache .mypy_cache .ruff_cache bench/.work

distclean: clean
	rm -rf $(VENV)
