# Leadpulse — the two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: run test test-faults lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

# The scoring engine compiled to C with mypyc, again whenever its sources change; without a C
# compiler scoring runs as Python (scripts/compile_scoring.py, docs/decisions.md)
$(VENV)/.native: $(wildcard leadpulse/scoring/*.py) scripts/compile_scoring.py | $(VENV)/.installed
	$(BIN)/python scripts/compile_scoring.py
	touch $@

## run: install, migrate and start Leadpulse on the SQLite file ./leadpulse.db;
## the first time (no leadpulse.db yet) it sets up the demo shop with simulated visitors
run: $(VENV)/.installed $(VENV)/.native
	@if [ -f leadpulse.db ]; then \
	  $(BIN)/leadpulse serve --host $(HOST) --port $(PORT); \
	else \
	  $(BIN)/leadpulse demo --host $(HOST) --port $(PORT); \
	fi

## test: lint, type-check, check the import contracts, run the whole test suite (the scoring
## tests once more with scoring as Python)
test: $(VENV)/.installed-dev lint typecheck $(VENV)/.native
	scripts/install-chromium
	$(BIN)/pytest
	LEADPULSE_SCORING_FROM_SOURCE=1 $(BIN)/pytest -q tests/scoring

## test-faults: the long load and fault tests (tests/faults, marker `faults`, about 8 minutes;
## PostgreSQL ones need LEADPULSE_TEST_DATABASE_URL), then the long fuzz run (tests/fuzz)
test-faults: $(VENV)/.installed-dev $(VENV)/.native
	$(BIN)/pytest -m faults tests/faults
	LEADPULSE_FUZZ_EXAMPLES=2000 $(BIN)/pytest tests/fuzz

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check leadpulse tests bench
	$(BIN)/ruff format --check leadpulse tests bench
	$(BIN)/lint-imports

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

## bench: run every benchmark in bench/ and print one table of their figures (about 15 min;
## `make bench BENCH_ARGS=--quick` for a few minutes)
bench: $(VENV)/.installed-dev $(VENV)/.native
	$(BIN)/python bench/all.py $(BENCH_ARGS)

clean:
	python3 scripts/compile_scoring.py --clean
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
