# Serverless UMS: `make dev` runs the local stack, `make test` runs every test.
# Both create the virtual environment they need.
SHELL := /bin/bash
PYTHON_FOR_VENV := $(shell scripts/find-python)
VENV := .venv
PY := $(VENV)/bin/python
# sam build runs `python3.13` from PATH: put the one we found first.
PYTHON_DIR := $(dir $(PYTHON_FOR_VENV))
export SAM_CLI_TELEMETRY := 0
export PATH := $(CURDIR)/$(VENV)/bin:$(PYTHON_DIR):$(PATH)

.PHONY: dev demo test lint bench invoke validate build clean venv

$(VENV)/.installed: requirements-dev.txt layers/ums/requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .  # the `ums` command
	touch $@

venv: $(VENV)/.installed

dev: $(VENV)/.installed  ## run the local stack on 127.0.0.1:$${UMS_LOCAL_PORT:-3000}
	$(PY) -m local_stack serve $(if $(PARAMETER_OVERRIDES),--parameter-overrides "$(PARAMETER_OVERRIDES)")

demo: $(VENV)/.installed  ## with `make dev` running: configure mail and walk the reset flow
	$(PY) -m local_stack.demo

test: $(VENV)/.installed lint  ## unit, integration and end-to-end tests
	$(PY) -m pytest

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy

invoke: $(VENV)/.installed  ## make invoke FN=SignUpFunction EVENT=events/sign_up.json
	$(PY) -m local_stack invoke $(FN) $(EVENT)

bench: $(VENV)/.installed  ## make bench [QUICK=1]
	$(PY) -m bench $(if $(QUICK),--quick)

validate: $(VENV)/.installed
	sam validate --lint

# boto3/botocore come with the Lambda runtime: PIP_NO_DEPS keeps them out of the layer
# (layers/ums/requirements.txt lists every other dependency itself).
build: $(VENV)/.installed
	PIP_NO_DEPS=1 sam build

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
