# Two commands for a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Under CI the suite must exercise PostgreSQL and Redis, never silently fall back to SQLite.
# Two runs on one server need only different DATABASE_URL names and Redis databases: every
# test, the benchmarks' smoke test and prod-check derive what else they use from these two.
ifeq ($(CI),true)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/switchboard
export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
export REQUIRE_SERVICES := 1
endif

.PHONY: run test lint typecheck bench clean browser lock prod-check

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Installs come from the locks (every transitive dependency pinned, with hashes): two
# installs a month apart are the same. requirements*.txt list the direct dependencies.
$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements.lock
	touch $@

$(VENV)/.dev: requirements-dev.lock | $(BIN)/python
	$(BIN)/pip install -q --require-hashes -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

# Recompile both locks from pyproject.toml (which reads requirements.txt and
# requirements-dev.txt) after changing a direct dependency. Deterministic: the same inputs
# and the same registry give the same files (no local config, no cache that could hold the
# project's metadata from before a change to requirements*.txt, resolved for every platform).
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --no-config --no-cache --universal --python-version 3.11 \
	--generate-hashes --custom-compile-command "make lock" --quiet
lock: $(VENV)/.dev
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra dev -o requirements-dev.lock

# The demo needs honcho, a development tool: it comes with the dev set.
run: $(VENV)/.dev
	mkdir -p var/mail
	DEBUG=true $(BIN)/python manage.py migrate --no-input
	DEBUG=true $(BIN)/python manage.py setup_demo
	DEBUG=true $(BIN)/honcho start -f Procfile

# Debian's Chromium for the real-browser tests (no browser download: Playwright drives it).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "could not install chromium: browser tests will be skipped (they fail under CI=true)"; \
	  else echo "chromium missing and not installable here: browser tests will be skipped"; fi; \
	fi

test: $(VENV)/.dev browser
	@if [ "$(REQUIRE_SERVICES)" = "1" ]; then DEBUG=true $(BIN)/python manage.py check_services; fi
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -rs

# mypy over the apps, the site and the scripts ([tool.mypy] in pyproject.toml says which and
# how strictly); its incremental cache is .mypy_cache.
typecheck: $(VENV)/.dev
	$(BIN)/mypy

# The production stack (Procfile.production: gunicorn, a prefork worker per queue, beat) on
# this machine's PostgreSQL and Redis with DEBUG off, in a database and Redis key prefix of
# its own derived from DATABASE_URL and CELERY_BROKER_URL; stops all it started.
prod-check: $(VENV)/.dev
	$(BIN)/python scripts/prod_check.py

lint: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache build dist *.egg-info

# Benchmarks against their references (bench/RESULTS.md); needs PostgreSQL and Redis.
# BENCH_SIZES=small|full (default full), BENCH_E2E_MINUTES (default 10 at full, 1 at small; 0 skips).
BENCH_SIZES ?= full
bench: $(VENV)/.dev
	BENCH_E2E_MINUTES=$(BENCH_E2E_MINUTES) $(BIN)/python -m bench.run --sizes $(BENCH_SIZES)
