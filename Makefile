# The two commands a newcomer runs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed

.PHONY: run test install bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit("Journeys needs Python 3.11 or newer, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# The first run on an empty instance loads the demo shop (docs/demo.md); DEMO=0 (or
# JOURNEYS_DEMO=0) starts without it.
DEMO ?= $(if $(JOURNEYS_DEMO),$(JOURNEYS_DEMO),1)

run: $(STAMP)
	$(BIN)/journeys up --host $(HOST) --port $(PORT) $(if $(filter 0 no false off,$(DEMO)),--no-demo,--demo)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every benchmark, one table (bench/run_all --help; BENCH_ARGS=--quick for the short run).
bench: $(STAMP)
	$(BIN)/python bench/run_all $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
