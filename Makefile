# CareSlot: `make run` serves the API at http://127.0.0.1:8000; `make test` runs lint, the type
# check and the suite.
SHELL := /bin/bash
PYTHON_BIN ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.lock | cut -c1-12)

.PHONY: install services run test test-scale lint typecheck format lock clean bench schema

install: $(STAMP)

$(STAMP): requirements.lock
	@$(PYTHON_BIN) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "CareSlot needs Python 3.11 (found $$($(PYTHON_BIN) --version))."; exit 1; }
	@test -x $(PY) || $(PYTHON_BIN) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	@rm -f $(VENV)/.installed-* && touch $@

# Checks that PostgreSQL and Redis answer (starting stopped local servers); `run` and `test`
# also start the embedded PostgreSQL when there is none (scripts/services.py).
services: install
	@$(PY) scripts/services.py --redis

run: install
	@$(PY) scripts/services.py -- bash scripts/run.sh

test: install lint typecheck
	@$(PY) scripts/services.py --redis-optional -- $(VENV)/bin/pytest $(PYTEST_ARGS)

# The scale-out tests alone, with the figures they measure: CareSlot behind PgBouncer in
# transaction mode, and a cluster of Linux network namespaces (HAProxy, two web hosts, Redis,
# two workers, two beats: tests/scale/cluster.py), about two minutes. Needs root; installs
# Debian's haproxy, pgbouncer, redis-server and iproute2 when they are missing. `make test`
# runs the same tests (skipped, saying why, where they cannot run).
test-scale: SERVICES_FLAGS := --redis
test-scale: services
	@bash scripts/debian_packages.sh haproxy pgbouncer redis-server iproute2
	$(VENV)/bin/pytest -s tests/hardening/test_pooler.py tests/scale $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy with the Django and DRF plugins, configured in pyproject.toml ([tool.mypy]); its cache
# (.mypy_cache) makes a run after a small change take a second or two.
typecheck: install
	$(VENV)/bin/mypy

# The OpenAPI contract clients generate from, checked in; `make test` fails when it is stale.
schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --file openapi.yaml

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# The load benchmark of the real stack (bench/README.md; not part of `make test`): a fresh
# database, gunicorn, locust and pgbench, about six minutes. BENCH_ARGS passes options, e.g.
# BENCH_ARGS="--duration 10 --only slot_search".
BENCH_STAMP := $(VENV)/.bench-$(shell sha1sum requirements-bench.lock | cut -c1-12)

bench: install $(BENCH_STAMP)
	@$(PY) scripts/services.py --redis
	@command -v pgbench >/dev/null || ls /usr/lib/postgresql/*/bin/pgbench >/dev/null 2>&1 || \
		echo "pgbench not found: the SQL ceiling is skipped (apt-get install postgresql-client)."
	$(PY) -m bench.run $(BENCH_ARGS)

$(BENCH_STAMP): requirements-bench.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements-bench.lock
	@rm -f $(VENV)/.bench-* && touch $@

# Re-pin after editing pyproject.toml's dependencies (needs uv: `pip install uv`); the
# benchmark's lock is the same pins plus its own extra.
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock
	uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 --generate-hashes \
		-c requirements.lock -o requirements-bench.lock

clean:
	rm -rf $(VENV) staticfiles
