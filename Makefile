# The two commands a newcomer needs: `make run` and `make test`.
# Everything they need is installed into .venv by this file.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Node tools (the Adaptive Cards renderer the tests use, and the Microsoft 365 Agents
# Playground, a local Teams, for `make run` and the end-to-end tests), pinned in
# package-lock.json.
NODE_STAMP := node_modules/.installed
# Debian's Chromium, for the end-to-end browser test (never `playwright install`).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test lint install bench clean

# The bot on the demo workspace beside the Agents Playground: prints the URL to open.
run: $(STAMP) $(NODE_STAMP)
	$(BIN)/alertbot demo

test: $(STAMP) $(NODE_STAMP) $(CHROMIUM) lint
	$(BIN)/python -m pytest -n auto

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

$(CHROMIUM):
	test -x $@ || ($(SUDO) apt-get update && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y --no-install-recommends chromium)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.seed_queries

clean:
	rm -rf $(VENV) node_modules dist .mypy_cache .ruff_cache
