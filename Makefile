# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install install-azurite run test unit integration e2e lint bench clean

install: $(STAMP) install-azurite

# Azurite (the Azure Storage emulator, from npm) for the blob-store tests; skipped with a notice without npm.
install-azurite:
	bash tools/azurite.sh

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.serve

test: $(STAMP) install-azurite lint
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report
	$(BIN)/coverage report --include='domain/*,core/*' --fail-under=90 > /dev/null || \
		{ echo "domain/ and core/ must stay above 90% line coverage"; exit 1; }

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) install-azurite
	$(BIN)/pytest tests/integration

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .azurite .coverage .coverage.* .pytest_cache
