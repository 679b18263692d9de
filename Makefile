# Two commands for a newcomer: `make run` (the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin

.PHONY: run test install install-dev bench bench-report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Set up and serve the admin, the APIs and /mcp on SQLite with local data adapters and eager Celery.
run: install
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py bootstrap --url http://$(HOST):$(PORT)
	$(BIN)/uvicorn controlplane.asgi:application --host $(HOST) --port $(PORT) --timeout-graceful-shutdown 5

## Set up and run the test suite (SQLite unless DATABASE_URL is set).
test: install-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

BENCHES := policy_resolution decision_check dataplane_kv_latency dataplane_outbox_drain mcp_bench mcp_cpu_bench

bench: install-dev
	for name in $(BENCHES); do echo "== $$name"; $(BIN)/python bench/$$name.py || exit 1; done

## Every benchmark, PostgreSQL and nginx ones included, into bench/results/<date>.txt (about an hour).
bench-report: install-dev
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) var
