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

.PHONY: dev demo test lint bench fuzz docs invoke validate checkov iam-report build clean venv chromium screenshots

# First run: about a minute. A line per step, and pip's own progress for the long one.
$(VENV)/.installed: requirements-dev.txt layers/ums/requirements.txt layers/ums/ums/runtime-sdk.txt pyproject.toml
	@echo "==> Setting up $(VENV) with $(PYTHON_FOR_VENV) (first run, or the requirements changed)"
	@test -x $(PY) || $(PYTHON_FOR_VENV) -m venv $(VENV)
	@echo "==> Upgrading pip"
	@$(PY) -m pip install --quiet --upgrade pip
	@echo "==> Installing requirements-dev.txt (runtime, test and deploy dependencies)"
	@$(PY) -m pip install -r requirements-dev.txt
	@echo "==> Installing the ums command (pip install -e .)"
	@$(PY) -m pip install --quiet --no-deps -e .
	@touch $@
	@echo "==> $(VENV) is ready"

venv: $(VENV)/.installed

dev: $(VENV)/.installed  ## run the local stack on 127.0.0.1:$${UMS_LOCAL_PORT:-3000}
	$(PY) -m local_stack serve $(if $(PARAMETER_OVERRIDES),--parameter-overrides "$(PARAMETER_OVERRIDES)")

demo: $(VENV)/.installed  ## with `make dev` running: sign-up, verify page, reset page, sign-in
	$(PY) -m local_stack.demo

# One pytest-xdist worker per core; a test file stays on one worker (its module fixtures run once),
# and each worker's end-to-end tests get their own local stack on free ports.
test: $(VENV)/.installed lint chromium  ## unit, integration and end-to-end tests (the hosted pages in Chromium too)
	$(PY) -m pytest -n auto --dist loadfile

chromium:  ## Debian's chromium for the browser tests, when missing and installable
	@scripts/install-chromium

screenshots: $(VENV)/.installed chromium  ## the hosted pages' and the console's screenshots in docs/images (the README shows them)
	UMS_SCREENSHOTS=docs/images $(PY) -m pytest -p no:cacheprovider tests/e2e/test_hosted_pages.py tests/e2e/test_console.py

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

# The integration and end-to-end tests record each function's AWS calls (local_stack/iam.py),
# then every grant of template.yaml is listed with whether a test used it.
iam-report: $(VENV)/.installed  ## per function: the IAM actions its policy grants, and which the tests used
	rm -rf .iam-usage
	UMS_IAM_USAGE_DIR=$(CURDIR)/.iam-usage $(PY) -m pytest -q -n auto --dist loadfile -p no:cacheprovider tests/integration tests/e2e
	$(PY) -m local_stack iam-report .iam-usage

# STACK=running: against the emulator of the `make dev` on UMS_LOCAL_PORT (its users and tokens).
invoke: $(VENV)/.installed  ## make invoke FN=SignUpFunction EVENT=events/sign_up.json [STACK=running]
	$(PY) -m local_stack invoke $(if $(STACK),--stack $(STACK)) $(FN) $(EVENT)

fuzz: $(VENV)/.installed  ## long runs: 2000 hostile requests per route in process, 2000 over HTTP; Schemathesis, 100 per operation and mode
	UMS_FUZZ_EXAMPLES=2000 UMS_FUZZ_LOCAL_EXAMPLES=2000 UMS_CONTRACT_EXAMPLES=100 $(PY) -m pytest -s \
		tests/integration/test_fuzz.py tests/e2e/test_fuzz_local_stack.py tests/e2e/test_openapi_contract.py

docs: $(VENV)/.installed  ## docs/openapi.json and docs/api-reference.html from the contract (ums/openapi.py)
	$(PY) scripts/render_api_reference.py

bench: $(VENV)/.installed  ## make bench [QUICK=1]
	$(PY) -m bench $(if $(QUICK),--quick)

validate: $(VENV)/.installed
	sam validate --lint

# checkov lives in a venv of its own: its many pins must not move the project's (boto3 above all).
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed:
	@echo "==> Setting up $(CHECKOV_VENV) for checkov (first run)"
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON_FOR_VENV) -m venv $(CHECKOV_VENV)
	@$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==3.3.30
	@touch $@

checkov: $(CHECKOV_VENV)/.installed  ## scan template.yaml; .checkov.yaml and resources' Metadata say what is skipped and why
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml

# boto3/botocore come with the Lambda runtime: PIP_NO_DEPS keeps them out of the layer
# (layers/ums/requirements.txt lists every other dependency itself). Then the artifacts are
# checked: AArch64 extensions tagged for CPython 3.13 (or abi3), no boto, sizes (check_build.py),
# and every function imports from the built layer plus the runtime's SDK alone (check_build_imports.py).
build: $(VENV)/.installed
	PIP_NO_DEPS=1 sam build
	$(PY) scripts/check_build.py .aws-sam/build
	$(PY) scripts/check_build_imports.py .aws-sam/build $(PYTHON_FOR_VENV)

clean:
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache
