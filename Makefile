# Two commands do everything: `make demo` and `make test` (README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast test-integration test-e2e lint airflow bench lock venv clean sources system-deps

$(STAMP): requirements.lock pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required"; exit 1; }
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check "uv==0.13.8"
	# --compile-bytecode: where PYTHONDONTWRITEBYTECODE is set (as on our CI machines) no
	# .pyc is ever cached, and Airflow alone then takes ~2.5 s to import in every process.
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(VENV)/bin/python -r requirements.lock
	$(VENV)/bin/uv pip install --quiet --compile-bytecode --python $(VENV)/bin/python --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

system-deps:            ## LibreOffice headless (apt), to open every workbook in tests
	scripts/system_deps.sh

demo: $(STAMP) system-deps        ## simulated sources → Airflow DAGs → 01/TCD workbooks
	scripts/demo.sh

lint: $(STAMP)          ## ruff (imports, unused code) and the layer contracts (docs/architecture.md)
	. scripts/env.sh && ruff check . && lint-imports --no-cache

# Test lanes (pyproject.toml markers; README): unmarked tests are the fast lane — in
# process only, no subprocess, socket, LibreOffice or GX suite (tests/conftest.py
# enforces it), so it needs no system-deps.
FAST := not integration and not e2e

test: $(STAMP) system-deps lint   ## the linters, then every lane (what CI runs), the 25 slowest tests listed
	. scripts/env.sh && python -m pytest -q --durations=25

test-fast: $(STAMP)     ## the fast lane: no database server, subprocess, LibreOffice or network (~2 min)
	. scripts/env.sh && python -m pytest -q -m "$(FAST)"

test-integration: $(STAMP) system-deps   ## PostgreSQL, LibreOffice, HTTP/SMTP servers, subprocesses, GX suites, larger data
	. scripts/env.sh && python -m pytest -q -m integration --durations=10

test-e2e: $(STAMP) system-deps   ## the DAGs through Airflow (airflow dags test, airflow standalone)
	. scripts/env.sh && python -m pytest -q -m e2e --durations=10

airflow: $(STAMP)       ## airflow standalone on the same DAGs and sources (UI on :8080)
	scripts/airflow.sh

SCALE ?= hanoi
bench: $(STAMP)         ## each stage's time, rows/s and peak memory, one process each (SCALE=sample|hanoi|national) → output/bench/<scale>.json
	. scripts/env.sh && python -m bench.run --scale $(SCALE)

sources: $(STAMP)
	. scripts/env.sh && python -m simulators.generate --out simulated_sources --seed 42

lock:                   ## re-resolve requirements.in into exact pins
	$(VENV)/bin/uv pip compile requirements.in -o requirements.lock --python-version 3.11

clean:
	rm -rf output .airflow simulated_sources
