# payment-webhooks developer entry points (api-contract section 6).
#   make run         the whole service locally: API on $PORT (8000), emulator on $EMULATOR_PORT (4566)
#   make test        the whole test suite
#   make lint-infra  cfn-lint the CloudFormation template (part of make test)
#   make bench       run every benchmark in benchmarks/; each prints its figures
#   make archive     run the archival job once, now, against the running `make run` stack
#   make restore PROVIDER=stripe DATE=YYYY-MM-DD   restore an archived partition for an audit
# The venv is (re)installed only when a requirements file changes (stamp file).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2

.PHONY: run test lint-infra bench venv archive restore

venv: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(wildcard requirements*.txt) | $(PY)
	@echo "Installing requirements-dev.txt into $(VENV) ..."
	@set -o pipefail; $(PY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt 2>&1 \
		| { grep -v 'is ignored' || true; }
	@touch $@

run: $(STAMP)
	$(PY) -m local.run

test: $(STAMP) lint-infra
	$(PY) -m pytest $(PYTEST_ARGS)

lint-infra: $(STAMP)
	$(VENV)/bin/cfn-lint infra/resources.json

archive: $(STAMP)
	$(PY) -m local.archive run

restore: $(STAMP)
	@test -n "$(PROVIDER)" -a -n "$(DATE)" || { echo "usage: make restore PROVIDER=<provider> DATE=YYYY-MM-DD"; exit 2; }
	$(PY) -m local.archive restore --provider "$(PROVIDER)" --date "$(DATE)"

bench: $(STAMP)
	@set -e; for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script; done
