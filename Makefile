# The two commands of README.md: `make serve` and `make test`. Both install what they need into .venv.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
STORE ?= ./dist-store

.PHONY: install serve test lint bench

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/.installed

serve: install
	$(BIN)/distd --store $(STORE)

lint: install
	$(BIN)/ruff format --check dist tests alembic
	$(BIN)/ruff check dist tests alembic
	$(BIN)/mypy

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)
