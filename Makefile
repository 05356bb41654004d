# starlette-correlate: every gate is a target; `make all` runs them all.
# On a fresh machine with only Python 3.11, pip and make, the first target
# that needs the environment installs uv (into .bin/, with pip) and the
# locked environment (uv sync --locked). The Celery tests run a real
# redis-server: bootstrap installs the Debian package when it is missing
# and we are root, and otherwise says which command to run.

.DEFAULT_GOAL := all
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.bin/uv-env/bin/uv)
RUN := $(UV) run --locked --no-sync
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: all bootstrap system-packages check-fmt fmt lint typecheck test markdownlint \
	check-plans docs docs-serve demo run bench bench-http compat compat-lowest \
	compat-latest clean

all: check-fmt lint typecheck test markdownlint check-plans docs

$(CURDIR)/.bin/uv-env/bin/uv:
	$(PYTHON) -m venv $(CURDIR)/.bin/uv-env
	$(CURDIR)/.bin/uv-env/bin/pip install --quiet "uv>=0.5"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked
	@touch $@

bootstrap: .venv/.synced system-packages

system-packages:
	@command -v redis-server >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server; \
		else \
			echo "redis-server is missing (the Celery tests start one). Run:" >&2; \
			echo "    sudo apt-get update && sudo apt-get install -y redis-server" >&2; \
			echo "(or install redis-server with your system's package manager)" >&2; \
			exit 1; \
		fi; \
	}

check-fmt: bootstrap
	$(RUN) ruff format --check .

fmt: bootstrap
	$(RUN) ruff format .
	$(RUN) ruff check --fix .

lint: bootstrap
	$(RUN) ruff check .

typecheck: bootstrap
	$(RUN) mypy

test: bootstrap
	$(RUN) pytest

markdownlint: bootstrap
	git ls-files --cached --others --exclude-standard '*.md' \
		| xargs $(RUN) pymarkdown scan

check-plans: bootstrap
	$(RUN) python scripts/check_plans.py

# The site (mkdocs.yml, pages in docs/), built with --strict: a broken link,
# anchor, snippet or reference, or a page left out of the navigation, fails.
# It is built into a temporary folder, removed after, so nothing is left in
# the working tree. docs-serve rebuilds on every change.
export NO_MKDOCS_2_WARNING := 1

docs: bootstrap
	@site=$$(mktemp -d) && trap 'rm -rf "$$site"' EXIT && \
		$(RUN) mkdocs build --strict --site-dir "$$site"

docs-serve: bootstrap
	$(RUN) mkdocs serve --strict --dev-addr $(HOST):$(PORT)

demo: bootstrap
	$(RUN) python -m examples.demo

run: bootstrap
	HOST=$(HOST) PORT=$(PORT) $(RUN) python -m examples.run

# The suite at the declared floors and at the newest releases, each in a
# throw-away environment under .compat/ (uv.lock and .venv untouched).
# .ci/run runs it after `make all`; see scripts/compat.py.
compat: compat-lowest compat-latest

compat-lowest compat-latest: compat-%: bootstrap
	$(RUN) python scripts/compat.py $* --uv $(UV)

bench: bootstrap
	$(RUN) python -m bench.inprocess
	$(RUN) python -m bench.lines

bench-http: bootstrap
	$(RUN) python -m bench.http

clean:
	rm -rf .venv .bin .compat .mypy_cache .ruff_cache .pytest_cache .hypothesis
