# ecommerce-platform — every target does its own set-up on a fresh machine (only python3 and pip needed).
#   make preview [STACK=dev|prod]   the offline plan of a stack, printed like `pulumi preview`, plus the policy run
#   make policy [STACK=dev|prod]    the CrossGuard pack over build/<stack>/plan.json, through its Analyzer protocol
#   make test                       the whole test suite
#   make lint                       ruff + mypy + zizmor (the workflows)
#   make bench                      offline preview timings against the SDK floor, and the test suite's wall time
#   make diff OLD=a.json NEW=b.json what would change between two plans, like `pulumi preview --diff` (exit 1 if any)
#   make plan-diff [STACK=dev] [BASE=main]  what this working tree changes in a stack's plan, against a git revision
#   make cost [STACK=dev|prod]      the monthly estimate from build/<stack>/plan.json; writes build/<stack>/cost.json
#   make cost-diff [STACK=dev] [BASE=main]  the monthly delta of this working tree's plan against BASE's

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
STACK ?= dev
PYTHON ?= python3
UV_VERSION := 0.13.9

BOOT := .bootstrap
UV := $(BOOT)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: preview policy test lint bench venv clean help lock docs diff plan-diff cost cost-diff

help:
	@sed -n '2,11p' Makefile

$(UV):
	$(PYTHON) -m venv $(BOOT)
	$(BOOT)/bin/pip install --quiet "uv==$(UV_VERSION)"

# The same virtualenv `pulumi up` uses (Pulumi.yaml: toolchain pip, virtualenv .venv), so a real run executes
# exactly the code and SDK versions the tests ran. Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE
# is set (CI), every preview and test worker would otherwise recompile the SDKs from source.
$(VENV)/.installed: requirements.txt requirements-dev.txt Makefile | $(UV)
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV)
	$(UV) pip sync --quiet --compile-bytecode --python $(PY) requirements-dev.txt
	@touch $@

venv: $(VENV)/.installed

preview: venv
	$(PY) -m tools.offline preview --stack $(STACK)
	@$(MAKE) --no-print-directory policy STACK=$(STACK)

# The policy pack runs in its own virtualenv (policies/.venv, from policies/requirements.txt) as the Pulumi CLI
# runs it; exits non-zero on any mandatory violation. Builds the plan first if build/<stack>/plan.json is missing.
policy: venv
	$(PY) -m tools.offline.policy_run --stack $(STACK)

# Exit status like `git diff --exit-code`: 0 no changes, 1 changes, 2 an unreadable plan.
diff: venv
	@test -n "$(OLD)" -a -n "$(NEW)" || { echo "usage: make diff OLD=<plan.json> NEW=<plan.json>" >&2; exit 2; }
	$(PY) -m tools.offline diff $(OLD) $(NEW)

# BASE's plan is built from a `git archive` export of that revision in a temp dir, with this virtualenv, so the two
# plans differ only by the program; the working tree's plan is written to build/<stack>/plan.json as by `preview`.
BASE ?= main
plan-diff: venv
	$(PY) -m tools.offline plan-diff --stack $(STACK) --base $(BASE)

cost: venv
	$(PY) -m tools.cost --stack $(STACK)

# BASE's plan is built as `plan-diff` builds it (a `git archive` export of that revision, this virtualenv).
cost-diff: venv
	$(PY) -m tools.cost --stack $(STACK) base-delta --base $(BASE)

test: venv
	$(PY) -m pytest -q -n 2

# zizmor audits the GitHub workflows (pinning, credential persistence, template injection, ...); --offline: no
# GitHub API calls, so it runs on the machines this project is built on.
lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/zizmor --offline --no-progress --min-severity medium .github/workflows

bench: venv
	$(PY) -m tools.bench

clean:
	rm -rf build $(VENV) $(BOOT) policies/.venv .pytest_cache .mypy_cache .ruff_cache

# Re-pin requirements*.txt from the ranges in pyproject.toml (commit the result).
lock: | $(UV)
	$(UV) pip compile --quiet --python-version 3.11 --no-header pyproject.toml -o requirements.txt
	$(UV) pip compile --quiet --python-version 3.11 --no-header --extra dev pyproject.toml -o requirements-dev.txt

# Regenerate the README's settings table from components/config/ and the stack files, and docs/alarms.md from
# the alarm catalogue (components/alarms.py).
docs: venv
	@# The cost table and the picture are drawn from the plans: build both afresh, never from a stale build/.
	$(PY) -m tools.offline preview --stack dev > /dev/null
	$(PY) -m tools.offline preview --stack prod > /dev/null
	$(PY) -m tools.settings_table --write
	$(PY) -m tools.alarms_table --write
	$(PY) -m tools.cost readme --write
	$(PY) -m tools.cost dr-modes --write
	$(PY) -m tools.diagram --write
