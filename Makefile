# The quick start: `make run` (everything for a local trial) and `make test` (the whole suite).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/crm
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test install static messages compilemessages services lint format check clean

run: install
	DEBUG=true $(BIN)/python manage.py migrate --noinput
	DEBUG=true $(BIN)/python manage.py seed_demo --if-empty
	@echo "Open http://127.0.0.1:8000 and log in as rep1 / demo12345 (Ctrl-C stops web, worker and beat)."
	DEBUG=true PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile.dev

test: install services
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest

install: $(VENV)/.installed static compilemessages

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || "$$(scripts/find-python.sh)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $@

static: static/vendor/manifest.json

static/vendor/manifest.json: package.json package-lock.json scripts/vendor-static.mjs
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 18+ with npm."; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/vendor-static.mjs

# Update the zh-hans catalogue after adding strings; then translate what is empty.
messages: $(VENV)/.installed
	DEBUG=true $(BIN)/python manage.py makemessages -l zh_Hans --no-obsolete --no-location \
		-i ".venv/*" -i "node_modules/*" -i "static/vendor/*" -i "tests/*" -i "staticfiles/*" -i "var/*"

compilemessages: $(VENV)/.installed
	@command -v msgfmt >/dev/null || { echo "gettext is missing: sudo apt-get install gettext"; exit 1; }
	DEBUG=true $(BIN)/python manage.py compilemessages -l zh_Hans -i .venv -i node_modules >/dev/null

services:
	@scripts/ensure-services.sh

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: $(VENV)/.installed
	DEBUG=true $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules static/vendor staticfiles
