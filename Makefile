# Two commands for a newcomer: `make demo` and `make test`. Both create .venv on first use.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test bench lint install clean check-python

# Before a venv exists, check the interpreter it would be made from: an older Python otherwise fails
# deep inside pip (or looks like it hangs) instead of saying what to do.
check-python:
	@test -x $(PY) || { \
	  set -- $$($(PYTHON) -c 'import sys; print(*sys.version_info[:3])' 2>/dev/null); \
	  if [ -z "$$1" ]; then \
	    echo "counterpoint needs Python 3.11 or newer, and '$(PYTHON)' was not found; pick one: make demo PYTHON=python3.12" >&2; \
	    exit 1; \
	  fi; \
	  if [ "$$1" -lt 3 ] || { [ "$$1" -eq 3 ] && [ "$$2" -lt 11 ]; }; then \
	    echo "counterpoint needs Python 3.11 or newer, but '$(PYTHON)' is Python $$1.$$2.$$3; pick another: make demo PYTHON=python3.12" >&2; \
	    exit 1; \
	  fi; \
	}

$(STAMP): pyproject.toml | check-python
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/counterpoint console

test: $(STAMP)
	$(PY) -m pytest

bench: $(STAMP)
	$(PY) -m benchmarks

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
