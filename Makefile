# The two set-up commands of the README:
#   make run   install and run the service (SQLite, demo platform, one worker)
#   make test  install (system packages too: scripts/install-system-deps.sh) and run the tests
#   make serve the production server (granian, WSGI) and one worker; README "Production"
#   make bench the benchmark protocol at 1M rows (docs/benchmarks.md); bench-smoke: CI's 2,000
# Both find a Python >= 3.12 by themselves and install into .venv.

SHELL := /bin/bash
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin

# The first Python >= 3.12 found: $PYTHON, python3.13, python3.12, python3, then pyenv's versions.
define find_python
for p in $${PYTHON:-} python3.13 python3.12 python3 \
    $$(ls -d $${PYENV_ROOT:-$$HOME/.pyenv}/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do \
  if [ -n "$$p" ] && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then \
    echo "$$p"; exit 0; fi; \
done; echo "No Python >= 3.12 found; install one or set PYTHON=/path/to/python3.12" >&2; exit 1
endef

.PHONY: run serve test lint bench bench-monitors bench-smoke clean system-deps

$(BIN)/python:
	@py=$$($(find_python)) && echo "Using $$py ($$($$py --version))" && $$py -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input -v 0
	@echo ""
	@echo "  API:     http://$(HOST):$(PORT)/api/v1/executions/"
	@echo "  Docs:    http://$(HOST):$(PORT)/api/docs/"
	@echo "  Admin:   http://$(HOST):$(PORT)/admin/"
	@echo "  Create an admin user:  $(BIN)/python manage.py createsuperuser"
	@echo "  A demo monitor with 6 weeks of synthetic history (15-25 s, idempotent):"
	@echo "           $(BIN)/python manage.py seed_demo   then Admin > Monitors > charts"
	@echo "  Try it:  curl -X POST http://$(HOST):$(PORT)/api/v1/executions/ \\"
	@echo "             -H 'Content-Type: application/json' \\"
	@echo "             -d '{\"brand\":\"华夏良子\",\"competitors\":[\"良子健身\"],\"questions\":[\"北京中医推拿哪家好？\"],\"platforms\":[\"demo\"]}'"
	@echo ""
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py worker & worker=$$!; \
	$(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

# Production serving: one granian worker process per core (the app is CPU-bound under the GIL),
# one blocking thread each (SQLite is in-process; with PostgreSQL try THREADS=2 to overlap the
# database round trip). Persistent DB connections are per worker thread.
WORKERS ?= $(shell nproc 2>/dev/null || echo 2)
THREADS ?= 1
serve: $(VENV)/.installed-run
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py collectstatic --no-input --verbosity 0
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/python manage.py worker & worker=$$!; \
	$(BIN)/granian --interface wsgi --host $(HOST) --port $(PORT) --workers $(WORKERS) \
	  --blocking-threads $(THREADS) --no-ws brandtest.wsgi:application

# The benchmark protocol (docs/benchmarks.md); seeds bench/data/ (or brandtest_bench_<rows> on
# PostgreSQL) once, then reuses it. LEVELS=L0,L1 to run some levels only.
ROWS ?= 1000000
bench: $(VENV)/.installed-run
	$(BIN)/python -m bench.run --rows $(ROWS) $(if $(LEVELS),--levels $(LEVELS))
	# Level T: the trend query of one monitor with a year of daily runs (bench/trends.py).
	$(BIN)/python -m bench.trends --rows $(ROWS)
	$(BIN)/python -m bench.scheduler

# One scheduler tick with 10,000 monitors of which 100 are due (fresh bench_monitors database).
bench-monitors: $(VENV)/.installed-run
	$(BIN)/python -m bench.scheduler

# CI's smoke test of the benchmark code on a small dataset: no timing assertions.
bench-smoke: $(VENV)/.installed-run
	$(BIN)/python -m bench.run --rows 2000 --levels L0,M,L4 --quick

# WeasyPrint's libraries, CJK fonts, poppler-utils and chromium (apt; sudo when not root);
# a no-op when all are there. `make run` does not need them: only a PDF report does.
system-deps:
	scripts/install-system-deps.sh

test: system-deps $(VENV)/.installed-dev
	$(BIN)/python -m pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
