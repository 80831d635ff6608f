# Everything a newcomer needs: `make serve`, `make test`. `make help` lists the rest.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8080
SEED ?= 0
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.DEFAULT_GOAL := help
GCS_PORT ?= 4443
LEAN := .venv-lean
HOST ?=
USERS ?= 20
LOAD_TIME ?= 30s
.PHONY: help venv serve serve-gcs test test-slow model tune schemas lock bench load clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(INSTALLED): requirements.txt function/requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

venv: $(INSTALLED) ## Create .venv and install requirements.txt (done by every target that needs it)

serve: $(INSTALLED) ## Serve the function on http://127.0.0.1:PORT (default 8080) with the real functions-framework
	$(BIN)/functions-framework --target predict --source function/main.py --host 127.0.0.1 --port $(PORT)

serve-gcs: $(INSTALLED) ## The cloud flow locally: fake-gcs-server on GCS_PORT (4443), bundled model published, function on PORT
	$(BIN)/python tests/fake_gcs.py --gcs-port $(GCS_PORT) --port $(PORT)

test: $(INSTALLED) ## Run the whole test suite (slow tests run in their short versions)
	$(BIN)/python -m pytest

test-slow: $(INSTALLED) ## Run the test suite including the long versions of slow tests
	$(BIN)/python -m pytest --run-slow

model: $(INSTALLED) ## Retrain the bundled model into function/model (SEED=0)
	$(BIN)/python -m training train --out function/model --seed $(SEED)

tune: $(INSTALLED) ## Nested cross-validation of the model's configuration; records the evidence in training/defaults.json
	$(BIN)/python -m training tune --adopt

schemas: $(INSTALLED) ## Regenerate function/penguins/request_schemas.json from the pydantic models in schema.py
	cd function && ../$(BIN)/python -m penguins.schema

lock: ## Re-pin function/requirements.txt's transitive dependencies from a fresh venv of its direct pins
	$(PYTHON) tests/lock_requirements.py

$(LEAN)/.installed: function/requirements.txt
	test -x $(LEAN)/bin/python || $(PYTHON) -m venv $(LEAN)
	$(LEAN)/bin/python -m pip install --quiet --disable-pip-version-check -r function/requirements.txt
	touch $@

bench: $(INSTALLED) $(LEAN)/.installed ## Benchmark the deployable set (a venv of function/requirements.txt alone) against the framework floor
	$(LEAN)/bin/python -m compileall -q function tests/floor_function.py  # bytecode ahead, as a deployed function has it
	$(BIN)/python tests/benchmark.py --lean $(LEAN)/bin

load: $(INSTALLED) ## Locust, headless, USERS (20) for LOAD_TIME (30s) against a local function or HOST=url; report in reports/load.html
	$(BIN)/python tests/run_load.py --host "$(HOST)" --users $(USERS) --time $(LOAD_TIME)

clean: ## Remove the virtual environments and caches
	rm -rf $(VENV) $(LEAN) .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
