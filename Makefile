# The README's two commands: `make run` (the main job) and `make test` (the whole suite).
# Both install uv (if missing) and the locked dependencies first, so a fresh machine needs only Python 3.11+.

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: run test lint format setup bench

setup:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		{ echo "Installing uv (Python package manager) with pip…"; python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv; }
	@$(UV) sync --frozen --quiet

run: setup
	@$(UV) run --frozen matchmaker run

test: setup
	$(UV) run --frozen ruff check bot tests bench scripts
	$(UV) run --frozen ruff format --check bot tests bench scripts
	$(UV) run --frozen mypy
	@if [ "$${CI:-}" = "true" ] && [ -z "$${DATABASE_URL:-}" ]; then export DATABASE_URL="$(PG_TEST_URL)"; fi; \
		$(UV) run --frozen pytest

lint:
	$(UV) run ruff check bot tests bench scripts
	$(UV) run ruff format --check bot tests bench scripts
	$(UV) run mypy

format:
	$(UV) run ruff format bot tests bench scripts
	$(UV) run ruff check --fix bot tests bench scripts

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(UV) run --frozen python $$script || exit 1; done
