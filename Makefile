# Two commands for a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

# Under CI the suite must exercise PostgreSQL and Redis, never silently fall back to SQLite.
ifeq ($(CI),true)
export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/switchboard
export CELERY_BROKER_URL ?= redis://127.0.0.1:6379/0
export REQUIRE_SERVICES := 1
endif

.PHONY: run test lint bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

run: $(VENV)/.runtime
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
	$(BIN)/pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# Benchmarks against their references (bench/RESULTS.md); needs PostgreSQL and Redis.
# BENCH_SIZES=small|full (default full), BENCH_E2E_MINUTES (default 10 at full, 1 at small; 0 skips).
BENCH_SIZES ?= full
bench: $(VENV)/.dev
	BENCH_E2E_MINUTES=$(BENCH_E2E_MINUTES) $(BIN)/python -m bench.run --sizes $(BENCH_SIZES)
