# Two commands do all the set-up on a fresh machine:
#   make run   - create .venv, install the app set (requirements.txt), start the app (embedded SQLite)
#   make test  - the same, plus the developer set (requirements-dev.txt), then lint, type-check, every test
# Each install set has its own stamp, so `make test` after `make run` adds the developer tools and
# `make run` never installs them. `make requirements` recompiles both pinned files from pyproject.toml.
PYTHON ?= python3
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PORT      ?= 8501

export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench clean browser-deps pg-server requirements serve

# ---- installs ---------------------------------------------------------------------------------

# The app set: core + `app` extra, pinned; the package itself without touching those pins.
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

# The developer set on top: `dev` + `postgres` extras, compiled against requirements.txt's pins.
$(DEV_STAMP): $(STAMP) requirements-dev.txt
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	touch $(DEV_STAMP)

# Recompile the pinned sets with uv from pyproject.toml. Versions already pinned in the output files are
# kept (uv prefers them); to move one on purpose: make requirements UV_ARGS="--upgrade-package NAME".
UV_ARGS    ?=
UV_COMPILE := $(BIN)/uv pip compile pyproject.toml --python-version 3.11 --python-platform linux \
	--no-header --quiet $(UV_ARGS)
# $(1) = what the file is for, $(2) = the extra arguments of its compile command.
REQ_HEADER = \# $(1)\n\# Compiled by `make requirements` (do not edit by hand):\n\#   uv pip compile pyproject.toml $(2)\n\# (plus --python-version 3.11 --python-platform linux; pins already here are kept)\n

requirements: $(DEV_STAMP)
	$(UV_COMPILE) --extra app -o requirements.txt
	sed -i '/^opencv-contrib-python==/i # opencv-contrib-python: only because mediapipe requires it (it is also the cv2 posture imports); never add opencv-python' requirements.txt
	sed -i '1i $(call REQ_HEADER,What `make run` installs: the core dependencies + the app extra (streamlit).,--extra app -o requirements.txt)' requirements.txt
	$(UV_COMPILE) --extra dev --extra postgres -c requirements.txt -o requirements-dev.txt
	sed -i '1i $(call REQ_HEADER,What `make test` adds on top of requirements.txt: the dev extra (pytest and lint tools) + postgres (psycopg).,--extra dev --extra postgres -c requirements.txt -o requirements-dev.txt)' requirements-dev.txt

# ---- run --------------------------------------------------------------------------------------

run: $(STAMP)
	$(BIN)/python tools/run_app.py --server.address 127.0.0.1 --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# ---- test -------------------------------------------------------------------------------------

# Debian chromium for the real-browser test (never `playwright install`: no downloads but packages).
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "/usr/bin/chromium missing (needs root + apt-get): the browser test will be skipped"; fi; }

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# A private PostgreSQL on 127.0.0.1 for the store tests (installed with apt-get as root; prints its
# URL; quick when already running). Without root/apt-get it says the PostgreSQL tests are skipped.
pg-server:
	@tools/pg_test_server.sh

test: $(DEV_STAMP) browser-deps lint
	POSTURE_TEST_PG_URL="$$(tools/pg_test_server.sh)" $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The clinic's LAN mode (README "Security"): nginx (installed with apt-get as root when missing) with
# HTTPS and a login on every path in front of the app on a loopback port. Add a user first:
#   .venv/bin/posture users add NAME        then   SERVE_ADDRESS=0.0.0.0 make serve
SERVE_ADDRESS ?= 127.0.0.1
SERVE_PORT    ?= 8443
serve: $(STAMP)
	SERVE_ADDRESS=$(SERVE_ADDRESS) SERVE_PORT=$(SERVE_PORT) $(BIN)/python tools/serve.py
