# Two commands do everything: `make demo` and `make test` (README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test lint airflow bench lock venv clean sources system-deps

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

test: $(STAMP) system-deps lint   ## the linters, then the whole test suite (what CI runs)
	. scripts/env.sh && python -m pytest -q

airflow: $(STAMP)       ## airflow standalone on the same DAGs and sources (UI on :8080)
	scripts/airflow.sh

bench: $(STAMP)         ## time and peak memory of each stage on the demo data
	. scripts/env.sh && python -m bench.run

sources: $(STAMP)
	. scripts/env.sh && python -m simulators.generate --out simulated_sources --seed 42

lock:                   ## re-resolve requirements.in into exact pins
	$(VENV)/bin/uv pip compile requirements.in -o requirements.lock --python-version 3.11

clean:
	rm -rf output .airflow simulated_sources
