# Every target sets up its own virtual environment: a fresh machine needs Python 3.11+ and make.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	2>/dev/null && { echo $$p; break; }; done)
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What installing prints goes here, so the targets print only their own lines.
INSTALL_LOG := .install.log

.PHONY: run test lint typecheck unit bench soak screenshots contracts clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "workledger needs Python 3.11 or newer on PATH" >&2; exit 1; }
	@echo "workledger: installing into $(VENV) (a few minutes the first time; log in $(INSTALL_LOG))"
	@{ $(PYTHON) -m venv $(VENV) \
		&& $(BIN)/python -m pip install --upgrade pip \
		&& $(BIN)/python -m pip install -e '.[dev]'; } > $(INSTALL_LOG) 2>&1 \
		|| { tail -n 30 $(INSTALL_LOG) >&2; echo "workledger: install failed; see $(INSTALL_LOG)" >&2; exit 1; }
	@touch $@

# On an empty store, `make run` first loads the demo organisation; `make run DEMO=0` starts empty.
DEMO ?= 1
DEMO_SCALE ?= 0.1

# A terminal reads plain lines better than JSON (an environment's WORKLEDGER_LOG_FORMAT wins).
run: export WORKLEDGER_LOG_FORMAT ?= text
run: $(STAMP)
	@if [ "$(DEMO)" != 0 ]; then $(BIN)/workledger demo --if-empty --scale $(DEMO_SCALE); fi
	@$(BIN)/workledger serve

lint: $(STAMP)
	$(BIN)/ruff check domain contracts services tests
	$(BIN)/ruff format --check domain contracts services tests

typecheck: $(STAMP)
	$(BIN)/mypy

# Two test processes at a time; the load and fault tests then run by themselves, since they
# measure time and run processes of their own.
unit: $(STAMP)
	$(BIN)/pytest -q -n 2 --dist loadfile -m "not benchmark and not faults and not alone"
	$(BIN)/pytest -q -m "faults or alone"

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/pytest -m benchmark -s -p no:randomly tests/benchmarks

# `make test` runs the same soak for 60 s; this one runs 10 minutes and prints its table.
SOAK_SECONDS ?= 600
SOAK_RATE ?= 300
soak: $(STAMP)
	WORKLEDGER_REQUIRE_POSTGRES=1 WORKLEDGER_SOAK_SECONDS=$(SOAK_SECONDS) WORKLEDGER_SOAK_RATE=$(SOAK_RATE) \
		$(BIN)/pytest -s -p no:randomly tests/integration/test_soak.py

# The browser tests' screenshot of every page, kept for the README.
screenshots: $(STAMP)
	WORKLEDGER_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q -p no:randomly -m browser \
		tests/web/browser/test_every_page.py

contracts: $(STAMP)
	$(BIN)/python -m contracts.generate

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
