# Loom — two commands on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export SPARK_LOCAL_IP ?= 127.0.0.1
export LOOM_HOME ?= $(CURDIR)/.loom

.PHONY: install lint test demo bench clean browser

$(STAMP): requirements/lock.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# Debian's Chromium and a CJK font for the console's browser tests (root on these machines).
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi wenquanyi || \
	  ( (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null) || \
	    echo "warning: could not install chromium; browser tests will be skipped with a reason" )

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install browser lint
	$(BIN)/python -m pytest -p no:cacheprovider -n 2 --dist loadgroup --timeout 900

demo: install
	$(BIN)/loom demo

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .loom .pytest_cache .mypy_cache .ruff_cache
