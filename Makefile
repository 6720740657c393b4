# Gatepass: `make run` starts a server with a demo tenant, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt
HOST ?= 127.0.0.1
PORT ?= 8080
TEST_WORKERS ?= 2
LINTED := gatepass sdks/python/gatepass_sdk examples detectors tests bench/sdk_verify.py bench/bulk_load.py bench/soak.py bench/hot_path.py bench/worker_instructions.py bench/revoke_all.py bench/lib bench/floor
# The console tests drive Debian's Chromium with Playwright (its own browser download is not used).
BROWSER := /usr/bin/chromium
NGINX := /usr/sbin/nginx
NODE_SDK := sdks/node
NODE_STAMP := $(NODE_SDK)/node_modules/.stamp-ci
BENCH_PEERS_STAMP := bench/peers/node_modules/.stamp-ci
NODE_CLIENTS := tests/node_clients
NODE_CLIENTS_STAMP := $(NODE_CLIENTS)/node_modules/.stamp-ci
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint format dist browser nginx node-sdk node-clients bench bench-verify bench-signed bench-sdk bench-scale wrk soak clean

# The SDK is a distribution of its own (sdks/python); the examples, tests and benchmarks use it.
$(VENV)/.stamp-run: pyproject.toml sdks/python/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e . -e 'sdks/python[starlette,django,flask]'
	touch $@

$(VENV)/.stamp-dev: $(VENV)/.stamp-run
	$(PIP) -e '.[dev]'
	touch $@

run: $(VENV)/.stamp-run
	$(BIN)/gatepass migrate
	$(BIN)/gatepass demo --host $(HOST) --port $(PORT)
	$(BIN)/gatepass serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.stamp-dev $(NODE_STAMP)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/mypy
	$(BIN)/hadolint --config .hadolint.yaml Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec compose.yaml
	npm run --silent --prefix $(NODE_SDK) build

format: $(VENV)/.stamp-dev
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

# Wheels of the server (gatepass) and of the SDK (gatepass-sdk) in dist/.
dist: $(VENV)/.stamp-run
	rm -rf dist
	$(BIN)/pip wheel --quiet --disable-pip-version-check --no-deps -w dist . sdks/python

# The Node.js SDK's dependencies (jose; express, fastify and typescript for its tests and types),
# as package-lock.json pins them. tests/sdk/test_node_sdk.py runs its `node --test` suites.
node-sdk: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_SDK)/package.json $(NODE_SDK)/package-lock.json
	cd $(NODE_SDK) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Third-party Node.js OAuth clients the tests drive (oauth4webapi), as package-lock.json pins them.
node-clients: $(NODE_CLIENTS_STAMP)

$(NODE_CLIENTS_STAMP): $(NODE_CLIENTS)/package.json $(NODE_CLIENTS)/package-lock.json
	cd $(NODE_CLIENTS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

browser:
	@test -x $(BROWSER) || { $(SUDO) apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

# The cluster tests put Debian's nginx in front of several gatepass serve processes.
nginx:
	@test -x $(NGINX) || { $(SUDO) apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q nginx; }

# Two test processes by default (TEST_WORKERS=0 runs in one); the cluster tests share one.
# The slow tests (soak, fault injection) run after all the others, which fail faster without them.
test: lint browser nginx node-sdk node-clients
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m "not slow"
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup -m slow

bench: $(VENV)/.stamp-run
	bench/token_endpoint.sh

bench-verify: $(VENV)/.stamp-run
	bench/verify_endpoint.sh

# private_key_jwt, then with DPoP: gatepass vs. oidc-provider, which bench/peers/package-lock.json pins.
bench-signed: $(VENV)/.stamp-run $(BENCH_PEERS_STAMP) wrk
	bench/signed_token.sh

$(BENCH_PEERS_STAMP): bench/peers/package.json bench/peers/package-lock.json
	cd bench/peers && npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench-sdk: $(VENV)/.stamp-run
	$(BIN)/python bench/sdk_verify.py

# 1 vs 2 processes, 1k vs 1M API keys and 100k clients on PostgreSQL (see bench/README.md).
bench-scale: $(VENV)/.stamp-run wrk
	bench/scale.sh

wrk:
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -q \
		&& DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q wrk; }

# Ten minutes of mixed load on a three-node cluster (PostgreSQL, Redis, nginx), memory sampled.
soak: $(VENV)/.stamp-dev nginx
	$(BIN)/python bench/soak.py --duration 600

clean:
	rm -rf $(VENV) build dist *.egg-info sdks/python/build sdks/python/*.egg-info .mypy_cache .ruff_cache .pytest_cache
	rm -rf $(NODE_SDK)/node_modules $(NODE_SDK)/types bench/peers/node_modules $(NODE_CLIENTS)/node_modules
