# `make run` and `make test` each create .venv and install what they need when it is missing
# or older than pyproject.toml.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench bench-metrics clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/releasebot serve --host 127.0.0.1 --port 8080

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks.slack_status
	$(BIN)/python -m benchmarks.fanout

# The 90-day metrics query on PostgreSQL with 100,000 deployments (needs the server; not in `make test`).
bench-metrics: $(STAMP)
	$(BIN)/python -m benchmarks.metrics_query

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
