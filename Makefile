# Gatepass: `make run` starts a server with a demo tenant, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8080
LINTED := gatepass gatepass_sdk examples tests bench/sdk_verify.py
# The console tests drive Debian's Chromium with Playwright (its own browser download is not used).
BROWSER := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint format browser bench bench-verify bench-sdk clean

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
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy

format: $(VENV)/.stamp-dev
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

browser:
	@test -x $(BROWSER) || { $(SUDO) apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

test: lint browser
	$(BIN)/pytest

bench: $(VENV)/.stamp-run
	bench/token_endpoint.sh

bench-verify: $(VENV)/.stamp-run
	bench/verify_endpoint.sh

bench-sdk: $(VENV)/.stamp-run
	$(BIN)/python bench/sdk_verify.py

clean:
	rm -rf $(VENV) build *.egg-info .mypy_cache .ruff_cache .pytest_cache
