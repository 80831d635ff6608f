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
PEERS := .venv-peers
HOST ?=
USERS ?= 20
TEST_WORKERS ?= auto
LOAD_TIME ?= 30s
PROFILE ?=
OLD ?= HEAD~1
MEASURE ?= rps
TIME_SCALE ?=
.PHONY: help venv serve serve-gcs test test-slow model tune schemas lock bench instructions ab load capacity peers compare drift clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Two environments: .venv-lean holds the function's own pinned set (what a deploy installs: serve and bench
# use it), .venv the development set (training, tests). scripts/venv.sh installs with uv, or pip without it.
$(INSTALLED): requirements.txt function/requirements.txt pyproject.toml
	EDITABLE=. PYTHON=$(PYTHON) scripts/venv.sh $(VENV) requirements.txt
	touch $@

$(LEAN)/.installed: function/requirements.txt
	PYTHON=$(PYTHON) scripts/venv.sh $(LEAN) function/requirements.txt
	touch $@

# The peers the benchmarks compare us with, each in its own venv of tools/bench/peers/<peer>.txt.
$(PEERS)/%/.installed: tools/bench/peers/%.txt
	PYTHON=$(PYTHON) scripts/venv.sh $(PEERS)/$* $<
	touch $@

venv: $(INSTALLED) ## Create .venv with the development set (requirements.txt) and this project installed editable (penguins, training, tools)

serve: $(LEAN)/.installed ## Serve the function on http://127.0.0.1:PORT (default 8080): the real functions-framework, the function's own packages only
	$(LEAN)/bin/functions-framework --target predict --source function/main.py --asgi --host 127.0.0.1 --port $(PORT)

serve-gcs: $(INSTALLED) ## The cloud flow locally: fake-gcs-server on GCS_PORT (4443), bundled model published, function on PORT
	$(BIN)/python -m tools.serve_gcs --gcs-port $(GCS_PORT) --port $(PORT)

test: $(INSTALLED) ## Run every test (slow ones in their short versions), on all cores; installs Chromium and Node when missing
	scripts/test-tools.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

test-slow: $(INSTALLED) ## Run every test in its long version, and the long-only ones (second whole deploys)
	scripts/test-tools.sh
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --run-slow

model: $(INSTALLED) ## Retrain the bundled model into function/model (SEED=0)
	$(BIN)/python -m training train --out function/model --seed $(SEED)

tune: $(INSTALLED) ## Nested cross-validation of the model's configuration; records the evidence in training/defaults.json
	$(BIN)/python -m training tune --adopt

schemas: $(INSTALLED) ## Regenerate function/penguins/request_schemas.json from the pydantic models in schema.py
	cd function && ../$(BIN)/python -m penguins.schema

lock: ## Re-pin function/requirements.txt's transitive dependencies from a fresh venv of its direct pins
	$(PYTHON) -m tools.lock

bench: $(INSTALLED) $(LEAN)/.installed ## Benchmark the deployable set (a venv of function/requirements.txt alone) against the fast-lane floor; installs wrk when missing
	scripts/test-tools.sh wrk
	$(LEAN)/bin/python -m compileall -q function tools/bench/peers  # bytecode ahead, as a deployed function has it
	$(BIN)/python -m tools.bench --lean $(LEAN)/bin

instructions: $(INSTALLED) $(LEAN)/.installed ## Instructions per request (valgrind's callgrind: the same count however busy the machine), ours part by part against the floor
	PYTHONPATH=. $(LEAN)/bin/python -m tools.bench.instructions

ab: $(INSTALLED) $(LEAN)/.installed ## What a change cost at git revision OLD (HEAD~1) against the working tree, paired: MEASURE=rps (default), bulk, mixed
	scripts/test-tools.sh wrk
	$(BIN)/python -m tools.bench.ab --lean $(LEAN)/bin --old $(OLD) --measure $(MEASURE)

load: $(INSTALLED) ## Locust, headless, USERS (20) for LOAD_TIME (30s), or PROFILE=baseline|normal|stress|spike (TIME_SCALE=0.1), against a local function or HOST=url
	$(BIN)/python -m tools.load --host "$(HOST)" --users $(USERS) --time $(LOAD_TIME) --profile "$(PROFILE)" --time-scale "$(TIME_SCALE)"

capacity: $(INSTALLED) $(LEAN)/.installed $(PEERS)/seed/.installed ## Measure CPU per request, worst-case memory and cold start (ours and the seed's design); write docs/capacity.md
	$(LEAN)/bin/python -m compileall -q function  # bytecode ahead, as a deployed function has it
	$(BIN)/python -m tools.capacity --lean $(LEAN)/bin

peers: $(PEERS)/seed/.installed $(PEERS)/mlserver/.installed $(PEERS)/fastlane/.installed ## Build the peers' venvs once (.venv-peers): the seed's FastAPI design, MLServer, the framework's fast lane

compare: $(INSTALLED) $(LEAN)/.installed peers ## The peers table: ours beside the seed's design, MLServer and the two framework floors (python -m tools.bench.compare)
	scripts/test-tools.sh wrk
	$(BIN)/python -m tools.bench.compare --lean $(LEAN)/bin

drift: $(INSTALLED) ## Drift report on a local server's log: serves function/, sends real penguins (SHIFT=1: shifted ones), writes reports/drift/
	$(BIN)/python -m tools.drift_traffic --out reports/drift $(if $(SHIFT),--shift)

clean: ## Remove the virtual environments and caches
	rm -rf $(VENV) $(LEAN) $(PEERS) .tools .pytest_cache .mypy_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
