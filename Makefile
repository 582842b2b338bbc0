# The two commands of README.md: `make serve` and `make test`. Both install what they need into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STORE ?= ./dist-store
# Not ./dist/, where `python -m build` would put them: that is the package.
WHEELS ?= build/wheels

.PHONY: install serve test lint bench docs wheel clients

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

serve: install
	$(BIN)/distd --store $(STORE)

lint: install
	$(BIN)/ruff format --check dist tests tools
	$(BIN)/ruff check dist tests tools
	$(BIN)/mypy

# Two test processes (`make test PYTEST_WORKERS=0` runs them in this one).
PYTEST_WORKERS ?= 2

test: lint
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# docs/api.md from the app's /api/openapi.json and docs/cli.md from every command's --help (tests/docs fails
# when they are stale).
docs: install
	$(BIN)/python -m tools.docs

# An sdist and a wheel (which carries the migrations) into $(WHEELS); docs/operations.md installs them.
wheel: install
	rm -rf $(WHEELS)
	$(BIN)/python -m build --outdir $(WHEELS) .

# `make bench [BENCH_ARGS=--quick]`: every benchmark of bench/, one table. nginx and wrk come from the system's
# packages (RUNLEVEL=1 keeps the package from starting a system nginx).
bench: install
	@if ! command -v wrk >/dev/null || ! { command -v nginx >/dev/null || test -x /usr/sbin/nginx; }; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y nginx-light wrk \
		|| $$SUDO env DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y nginx wrk; \
	fi
	$(BIN)/python -m bench $(BENCH_ARGS)

# `make clients`: the real updaters that tests/clients runs against distd, and the browser that tests/pages drives.
# npm packages (pinned by tests/clients/package-lock.json: electron-updater, axe-core) go into .cache/node; node,
# npm, minisign, chromium and chromium-driver come from the system's packages.
clients:
	@missing=""; command -v minisign >/dev/null || missing="minisign"; \
	{ command -v node >/dev/null && command -v npm >/dev/null; } || missing="$$missing nodejs npm"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing \
		|| { $$SUDO apt-get update -q && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y $$missing; }; \
	fi
	mkdir -p .cache/node
	cp tests/clients/package.json tests/clients/package-lock.json .cache/node/
	cd .cache/node && npm ci --no-audit --no-fund --loglevel=error
