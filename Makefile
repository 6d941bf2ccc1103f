# Sanad: `make run` (set up, ingest the seeds if needed, serve), `make test`, `make bench`.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.sanad-installed

.PHONY: run test bench lint setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/sanad ingest
	$(BIN)/sanad serve

# Two workers, work stealing: 251-265 s against 474 s in one on the 2-core machine.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist worksteal

bench: $(STAMP)
	$(BIN)/python -m benchmarks.retrieval
	$(BIN)/python -m benchmarks.answers
	$(BIN)/python -m benchmarks.articles
	$(BIN)/python -m benchmarks.corroboration
	$(BIN)/python -m benchmarks.latency
	$(BIN)/python -m benchmarks.load
	$(BIN)/python -m benchmarks.soak
	$(BIN)/python -m benchmarks.scale
	$(BIN)/python -m benchmarks.language_id
	$(BIN)/python -m benchmarks.ingestion
	$(BIN)/python -m benchmarks.workspace

lint: $(STAMP)
	$(BIN)/ruff check .
