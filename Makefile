# The two commands a newcomer needs: `make run` and `make test`.
# Everything they need is installed into .venv by this file.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Node tools the tests use (the Adaptive Cards renderer), pinned in package-lock.json.
NODE_STAMP := node_modules/.installed

.PHONY: run test lint install bench clean

run: $(STAMP)
	$(BIN)/alertbot serve

test: $(STAMP) $(NODE_STAMP) lint
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

bench: $(STAMP)
	$(BIN)/python -m benchmarks.seed_queries

clean:
	rm -rf $(VENV) node_modules dist .mypy_cache .ruff_cache
