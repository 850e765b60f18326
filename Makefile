# The two commands: `make run` and `make test`. Everything else supports them.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
QUICK ?=

.PHONY: run test lint typecheck imports migrations-check pytest bench venv clean

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed

.env:
	cp config/example.env .env

# Embedded mode: PostgreSQL under .data/ unless DATABASE_URL is set; OCPP on :9000, REST on :8080.
run: venv .env
	$(PY) -m launcher

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: venv
	$(PY) -m mypy .

imports: venv
	$(VENV)/bin/lint-imports

migrations-check: venv
	$(PY) -m tests.tools.check_migrations

pytest: venv
	$(PY) -m pytest --cov --cov-report=term $(PYTEST_ARGS)

test: lint typecheck imports migrations-check pytest

bench: venv
	$(PY) -m bench $(if $(QUICK),--quick,)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
