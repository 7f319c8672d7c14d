# identity — run `make help` for the list of commands.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.DEFAULT_GOAL := help
.PHONY: help run test lint check migrate serve bench conformance security clean example-rp example-spa example-api

# `make run PORT=8010` serves on 8010; the development issuer follows the port (an ISSUER set in
# the environment wins). The examples take the same PORT, to find the server.
PORT   ?= 8000
ISSUER ?= http://127.0.0.1:$(PORT)

help: ## List the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.base-installed: requirements/base.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/base.txt
	@touch $@

$(VENV)/.dev-installed: requirements/base.txt requirements/dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/dev.txt
	@touch $@ $(VENV)/.base-installed

migrate: $(VENV)/.base-installed ## Apply database migrations
	$(BIN)/python manage.py migrate --noinput

# The demo administrator (admin role, staff, superuser) exists for the embedded development
# default only: a deployment runs seed_rbac with its own SEED_ADMIN_PASSWORD (docs/rbac.md).
DEMO_ADMIN_PASSWORD := demo-admin-password-change-me
run: migrate ## Set up on the embedded default (SQLite under var/) and serve on http://127.0.0.1:8000 (PORT=...)
	$(BIN)/python manage.py seed_demo
	SEED_ADMIN_PASSWORD=$(DEMO_ADMIN_PASSWORD) $(BIN)/python manage.py seed_rbac --admin-username demo-admin --admin-email demo-admin@localhost
	ISSUER=$(ISSUER) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

example-rp: $(VENV)/.dev-installed ## With make run going: a website (mozilla-django-oidc) signing in on http://127.0.0.1:8765
	$(BIN)/python examples/rp/run.py --issuer $(ISSUER)

example-spa: $(VENV)/.base-installed ## With make run going: a single-page app (PKCE, CORS) on http://127.0.0.1:8766
	$(BIN)/python examples/spa/serve.py --issuer $(ISSUER)

example-api: $(VENV)/.base-installed ## With make run going: a DRF API protected by our tokens on http://127.0.0.1:8767
	ISSUER=$(ISSUER) $(BIN)/python examples/api/run.py

serve: migrate ## Serve with gunicorn as production does (set DEBUG=false and friends first)
	$(BIN)/python manage.py collectstatic --noinput
	$(BIN)/gunicorn identity.wsgi --bind 127.0.0.1:8000 --workers 2 --timeout 30

# axe-core, which the browser suite injects into pages; without npm (or Chromium) that suite skips.
BROWSER_DEPS := tests/browser/node_modules/.package-lock.json
$(BROWSER_DEPS): tests/browser/package.json tests/browser/package-lock.json
	@if command -v npm >/dev/null; then npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser suite (tests/browser) will skip, it needs axe-core"; fi

test: $(VENV)/.dev-installed $(BROWSER_DEPS) ## Run the test suite (SQLite by default; DATABASE_URL/REDIS_URL for PostgreSQL/Redis)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed ## ruff, and a check that no model change lacks its migration
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

check: lint test ## Everything CI runs on the embedded default

# openid-client (npm), the certified relying party that drives one login of the conformance suite.
CONFORMANCE_NODE := tests/conformance/node/node_modules/.package-lock.json
$(CONFORMANCE_NODE): tests/conformance/node/package.json tests/conformance/node/package-lock.json
	npm ci --prefix tests/conformance/node --no-audit --no-fund --loglevel=error

# A fresh database (its name must end in "conformance") and a Redis database of its own, both
# flushed: never point these at data you keep.
CONFORMANCE_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/identity_conformance
CONFORMANCE_REDIS_URL ?= redis://127.0.0.1:6379/14
conformance: $(VENV)/.dev-installed $(CONFORMANCE_NODE) ## The OIDF OP certification plans against a live server (PostgreSQL, Redis, gunicorn + TLS); prints the table
	CONFORMANCE_DATABASE_URL=$(CONFORMANCE_DATABASE_URL) CONFORMANCE_REDIS_URL=$(CONFORMANCE_REDIS_URL) \
		$(BIN)/python -m pytest -c tests/conformance/pytest.ini tests/conformance $(PYTEST_ARGS)

# The attack suite, the fuzzing and the fault injection (the tests marked `security`; make test
# runs them too). The attack and fault suites start a PostgreSQL, a Redis and gunicorn of their
# own; the fuzzing runs in-process on DATABASE_URL/REDIS_URL (SQLite by default). The figures
# are printed and written to SECURITY_TABLE (default var/security.md).
security: $(VENV)/.dev-installed ## The attack suite, fuzzing and fault injection (private PostgreSQL + Redis, gunicorn); prints the figures
	$(BIN)/python -m pytest -p tests.security.figures -m security tests/security tests/fuzz tests/faults $(PYTEST_ARGS)

$(VENV)/.bench-installed: requirements/base.txt requirements/dev.txt requirements/bench.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements/bench.txt
	@touch $@ $(VENV)/.dev-installed $(VENV)/.base-installed

bench: $(VENV)/.bench-installed ## Benchmark beside DOT (tuned and as shipped), Authlib + Flask and node-oidc-provider in one run (PostgreSQL, Redis, wrk; < 10 min)
	$(BIN)/python bench/run.py

clean: ## Remove the virtualenv and local state (var/: database, dev keys)
	rm -rf $(VENV) var
