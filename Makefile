# Gatepass: `make run` starts a server with a demo tenant, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8080

.PHONY: run test lint format bench clean

$(VENV)/.stamp-run: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-run
	$(PIP) -e '.[dev]'
	touch $@

run: $(VENV)/.stamp-run
	$(BIN)/gatepass migrate
	$(BIN)/gatepass demo
	$(BIN)/gatepass serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.stamp-dev
	$(BIN)/ruff format --check gatepass tests
	$(BIN)/ruff check gatepass tests
	$(BIN)/mypy

format: $(VENV)/.stamp-dev
	$(BIN)/ruff format gatepass tests
	$(BIN)/ruff check --fix gatepass tests

test: lint
	$(BIN)/pytest

bench: $(VENV)/.stamp-run
	bench/token_endpoint.sh

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
