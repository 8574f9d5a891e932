# From a fresh clone: `make run` starts the demo, `make test` runs every test, `make check` lints.
# Needs Python 3.11 and Node/npm; `make test` installs Chromium with apt-get when run as root.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
HOST ?= 127.0.0.1
PORT ?= 8000
CHROMIUM ?= /usr/bin/chromium
PYTEST_ARGS ?=
BENCH_HOMES ?= 25000
BENCH_DURATION ?= 60

CSS := tmo/static/css/app.css
SCSS := $(shell find tmo/static/scss -name '*.scss' 2>/dev/null)

.PHONY: help run test check bench assurance deps python-deps node-deps css browser demo-accounts clean

help:
	@echo "make run    set up, migrate, load demo data, start the worker and http://$(HOST):$(PORT)/"
	@echo "make test   set up and run the whole test suite (SQLite, or DATABASE_URL if set)"
	@echo "make check  ruff, ruff format, missing migrations, manage.py check --deploy"
	@echo "make bench  seed BENCH_HOMES homes on PostgreSQL, measure, write bench/results/ (docs/benchmarks.md)"
	@echo "make assurance  leak sweep, fuzzing, faults, accessibility on PostgreSQL; writes docs/assurance.md"
	@echo "make clean  remove the virtualenv, node_modules and built assets (keeps var/)"

# --- set-up ------------------------------------------------------------------------------------
# Stamp files make a second run cheap: deps are reinstalled only when their lists change.

# The project installs no package of its own ([tool.setuptools] packages = []), so the
# dependencies are read straight from pyproject.toml: no build step and no egg-info in the tree.
$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["dev"]))' > $(VENV)/requirements.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r $(VENV)/requirements.txt
	@touch $@

node_modules/.installed: package-lock.json package.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CSS): node_modules/.installed $(SCSS)
	npm run --silent build:css

python-deps: $(VENV)/.installed
node-deps: node_modules/.installed
css: $(CSS)
deps: python-deps node-deps css

# Browser tests drive Debian's Chromium through Playwright. Without it (and not root to install
# it) they skip locally with a reason; under CI=true they fail instead.
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Chromium for the browser tests (apt-get)..."; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq; \
		apt-get install -y -qq --no-install-recommends chromium fonts-liberation >/dev/null; \
	else \
		echo "NOTE: $(CHROMIUM) is missing and we are not root, so browser tests will skip."; \
		echo "      Install it with: sudo apt-get install chromium"; \
	fi

# --- the three everyday commands -------------------------------------------------------------

run: deps
	@mkdir -p var
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo --if-empty
	@$(MAKE) --no-print-directory demo-accounts
	@echo "Starting the task worker and the site at http://$(HOST):$(PORT)/ (Ctrl-C stops both)"
	@$(MANAGE) schedule_daily
	@$(MANAGE) db_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null || true; wait $$worker 2>/dev/null || true' EXIT; \
	trap 'exit 0' INT TERM; \
	$(MANAGE) runserver $(HOST):$(PORT)

demo-accounts:
	@echo
	@echo "Demo accounts (password for all: demo-password-2026; see README.md):"
	@echo "  housing    housing officer        senior     senior officer"
	@echo "  repairs    repairs officer        dpo        data protection lead"
	@echo "  finance    finance officer        committee  committee member"
	@echo "  hr         HR officer             tenant     tenant (resident portal)"
	@echo "  contracts  contracts officer      admin      system administrator"
	@echo

test: deps browser
	$(VENV)/bin/pytest $(PYTEST_ARGS)

check: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@mkdir -p var
	DJANGO_SETTINGS_MODULE=tmo.settings.test $(MANAGE) makemigrations --check --dry-run
	@echo "manage.py check --deploy with production settings and throwaway secrets"
	@env DJANGO_SETTINGS_MODULE=tmo.settings.production \
		SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		FIELD_ENCRYPTION_KEYS="$$($(PY) -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
		BLIND_INDEX_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" \
		AUDIT_CHAIN_KEYS="check:$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(32))')" \
		ALLOWED_HOSTS=records.tmo.example \
		CSRF_TRUSTED_ORIGINS=https://records.tmo.example \
		DATABASE_URL=postgres://u:p@localhost/x \
		$(MANAGE) check --deploy --fail-level WARNING

# Starts its own PostgreSQL unless DATABASE_URL is set; see docs/benchmarks.md.
bench: python-deps
	BENCH_HOMES=$(BENCH_HOMES) BENCH_DURATION=$(BENCH_DURATION) bench/run.sh

# Starts its own PostgreSQL unless DATABASE_URL is set; see docs/assurance.md.
assurance: deps browser
	PYTEST_ARGS='$(PYTEST_ARGS)' .ci/assurance

clean:
	rm -rf $(VENV) node_modules staticfiles $(CSS) .ruff_cache
