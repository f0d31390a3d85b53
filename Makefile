# payment-webhooks developer entry points (docs/api.md section 6; docs/deploy.md).
#   make run                 the whole service locally: API on $PORT (8000), emulator on $EMULATOR_PORT (4566)
#   make test                the whole test suite (what CI runs), including cfn-lint of infra/ and of
#                            the prod package, and the least-privilege proof
#   make package STAGE=prod [PACKAGE_DIR=dist/prod]   one SAM template + zip holding everything
#   make deploy STAGE=prod [DRY_RUN=1]                resources stack, chalice deploy, stream/API settings
#   make policies            regenerate .chalice/policy-<stage>-<function>.json
#   make dashboard           regenerate the Dashboard of infra/resources.json (functions, dead-letter queues)
#   make bench               run every benchmarks/*.py
#   make fuzz                the hostile-input properties with ten times the examples CI runs
#   make reliability [WEBHOOKS=10000]   the reliability proof's full tiers and their tables (docs/reliability.md)
#   make lint-infra          cfn-lint the resources template only
#   make archive             run the archival job once, now, against the running `make run` stack
#   make restore PROVIDER=stripe DATE=YYYY-MM-DD   restore an archived partition for an audit
#   make redrive [STAGE=dev|prod]   redrive every dead-letter queue (the running stack, or a deployed stage)
#   make reconcile FILE=export.csv [REPORT=report.json] [STAGE=prod]   compare an export with the store
#   make backfill FILE=export.csv [STAGE=prod]       apply what the store lacks or has differently
# Deploy/package options: WAF=1, RATE_LIMIT=10000, BURST_LIMIT=5000, WEBHOOK_ALLOWLIST=file.json,
# ALERT_EMAIL=ops@example.com, LOG_RETENTION_DAYS=30, AWS_REGION / AWS_PROFILE as usual.
# The venv is (re)installed only when a requirements file changes (stamp file).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?= -n 2 --dist worksteal
PACKAGE_DIR ?= dist/$(STAGE)
RATE_LIMIT ?= 10000
BURST_LIMIT ?= 5000
LOG_RETENTION_DAYS ?= 30

EDGE_FLAGS = --rate-limit $(RATE_LIMIT) --burst-limit $(BURST_LIMIT) $(if $(WAF),--waf) \
	$(if $(WEBHOOK_ALLOWLIST),--webhook-allowlist $(WEBHOOK_ALLOWLIST))

.PHONY: run test lint-infra venv package deploy policies bench fuzz require-stage archive restore redrive reconcile reliability \

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

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

lint-infra: $(STAMP)
	$(VENV)/bin/cfn-lint infra/resources.json

archive: $(STAMP)
	$(PY) -m local.archive run

restore: $(STAMP)
	@test -n "$(PROVIDER)" -a -n "$(DATE)" || { echo "usage: make restore PROVIDER=<provider> DATE=YYYY-MM-DD"; exit 2; }
	$(PY) -m local.archive restore --provider "$(PROVIDER)" --date "$(DATE)"

require-stage:
	@if [ -z "$(STAGE)" ]; then echo "STAGE is required (dev or prod), e.g. make $(MAKECMDGOALS) STAGE=prod" >&2; exit 2; fi

package: $(STAMP) require-stage
	$(PY) -m deploy.package --stage $(STAGE) --out $(PACKAGE_DIR) $(EDGE_FLAGS)

deploy: $(STAMP) require-stage
	$(PY) -m deploy.deploy --stage $(STAGE) $(if $(DRY_RUN),--dry-run) $(EDGE_FLAGS) \
		--log-retention-days $(LOG_RETENTION_DAYS) $(if $(ALERT_EMAIL),--alert-email $(ALERT_EMAIL))

policies: $(STAMP)
	$(PY) -m deploy.policies

fuzz: $(STAMP)
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest tests/e2e/test_hostile_input_properties.py -q

bench: $(STAMP)
	@set -e; for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script; done

redrive: $(STAMP)
	$(PY) -m local.redrive --stage $(or $(STAGE),local)

# --- provider sync (docs/api.md section 10; docs/provider-sync.md) ---
.PHONY: sync
sync: $(STAMP)
	@test -n "$(PROVIDER)" -a -n "$(SINCE)" || { echo "usage: make sync PROVIDER=stripe|square SINCE=YYYY-MM-DD [STAGE=<deployed stage>]" >&2; exit 2; }
	$(PY) -m local.sync --provider "$(PROVIDER)" --since "$(SINCE)" $(if $(STAGE),--stage "$(STAGE)")

# --- operator console (docs/console.md) ---
#   make console STAGE=dev|prod [CONSOLE_PORT=8001] [API_URL=https://...]   the console on 127.0.0.1,
#                            its API calls signed with your AWS credentials
.PHONY: console
console: $(STAMP) require-stage
	$(PY) -m local.console --stage $(STAGE) --port $(or $(CONSOLE_PORT),8001) $(if $(API_URL),--api-url $(API_URL))
# --- reconciliation (docs/api.md section 10; docs/migration.md) ---
require-file:
	@if [ -z "$(FILE)" ]; then echo "usage: make $(MAKECMDGOALS) FILE=<export.csv|export.jsonl>" >&2; exit 2; fi

reconcile: $(STAMP) require-file
	$(PY) -m tools.reconcile reconcile "$(FILE)" $(if $(REPORT),--report "$(REPORT)") $(if $(STAGE),--stage $(STAGE))

backfill: $(STAMP) require-file
	$(PY) -m tools.reconcile backfill "$(FILE)" $(if $(STAGE),--stage $(STAGE))

RELIABILITY_TESTS = tests/integration/test_supply_chain.py tests/integration/test_packaging.py \
	tests/e2e/test_signature_attacks.py tests/e2e/test_hostile_input_properties.py \
	tests/e2e/test_openapi_fuzz.py tests/e2e/test_faults.py tests/integration/test_least_privilege.py

reliability: $(STAMP)
	@report=$$(mktemp); \
	RELIABILITY=full HYPOTHESIS_PROFILE=reliability RELIABILITY_REPORT=$$report \
		$(PY) -m pytest $(RELIABILITY_TESTS) -q -p no:cacheprovider > $$report.log 2>&1; status=$$?; \
	grep -E '^(FAILED|ERROR) ' $$report.log; tail -n 1 $$report.log; cat $$report; rm -f $$report $$report.log; \
	echo "== load (benchmarks/load.py)"; $(PY) benchmarks/load.py $(if $(WEBHOOKS),--webhooks $(WEBHOOKS)) || status=1; \
	exit $$status

# --- operations (docs/api.md section 11) ---
.PHONY: dashboard
dashboard: $(STAMP)
	$(PY) -m deploy.dashboard
