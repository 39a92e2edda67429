# Two commands do all the set-up on a fresh machine:
#   make run   - create .venv, install, start the app (embedded SQLite, sample images ready)
#   make test  - same bootstrap, then lint, type-check and every test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8501

export STREAMLIT_BROWSER_GATHER_USAGE_STATS := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint bench clean browser-deps pg-server

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# Debian chromium for the real-browser test (never `playwright install`: no downloads but packages).
browser-deps:
	@test -x /usr/bin/chromium || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "/usr/bin/chromium missing (needs root + apt-get): the browser test will be skipped"; fi; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# A private PostgreSQL on 127.0.0.1 for the store tests (installed with apt-get as root; prints its
# URL; quick when already running). Without root/apt-get it says the PostgreSQL tests are skipped.
pg-server:
	@tools/pg_test_server.sh

test: $(STAMP) browser-deps lint
	POSTURE_TEST_PG_URL="$$(tools/pg_test_server.sh)" $(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/accuracy.py
	$(BIN)/python benchmarks/speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
