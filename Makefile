# Two commands on a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install install-web run test unit integration e2e lint bench clean

install: $(STAMP) install-web

# Chart.js, Swagger UI, newman and Azurite (the Azure Storage emulator the blob-store tests start), pinned in
# package-lock.json, from npm into node_modules/ (git-ignored), with no package's install script run (.npmrc says
# so too); the browser assets are copied into api/static/vendor (git-ignored) for the service to serve offline.
WEB_VENDOR := api/static/vendor
WEB_ASSETS := node_modules/chart.js/dist/chart.umd.min.js node_modules/swagger-ui-dist/swagger-ui-bundle.js \
	node_modules/swagger-ui-dist/swagger-ui.css
install-web:
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: no charts, docs page, newman or Azurite; their tests will skip (or fail with REQUIRE_SERVICES=1)" >&2; \
	elif [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] || \
			[ ! -f $(WEB_VENDOR)/swagger-ui.css ]; then \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && mkdir -p $(WEB_VENDOR) && cp $(WEB_ASSETS) $(WEB_VENDOR)/; \
	fi

$(STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed: set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m tools.serve

test: $(STAMP) install-web lint
	rm -f .coverage .coverage.*
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report
	$(BIN)/coverage report --include='domain/*,core/*' --fail-under=90 > /dev/null || \
		{ echo "domain/ and core/ must stay above 90% line coverage"; exit 1; }

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) install-web
	$(BIN)/pytest tests/integration

e2e: $(STAMP) install-web
	$(BIN)/pytest tests/e2e

lint: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/ruff check .

# Every load path side by side on the local PostgreSQL and MariaDB (not a test): BENCH_ROWS=5000000 make bench.
# pandas is the bench's own dependency, never the service's.
BENCH_ROWS ?= 1000000
bench: $(STAMP)
	$(BIN)/pip install --quiet -r requirements-bench.txt
	BENCH_ROWS=$(BENCH_ROWS) $(BIN)/python tools/bench.py

clean:
	rm -rf $(VENV) var node_modules $(WEB_VENDOR) .coverage .coverage.* .pytest_cache
