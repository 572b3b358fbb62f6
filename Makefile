# Quick start: `make demo` (JupyterLab on working copies of the tutorials, with a demo store) and
# `make test` (the whole suite).  Both create .venv; each installs only what it needs, once:
# `make demo` the package with JupyterLab (the `demo` extra), `make test` everything the tests use.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO_STAMP = $(VENV)/.installed-demo
TEST_STAMP = $(VENV)/.installed-test
DEMO_STORE ?= demo/dltasks.db
PORT   ?= 8888
# pip, quiet; the setuptools notice on every editable install ("Editable installation... be careful
# with folders...") is about setuptools itself, not this project, so it is silenced by its text.
PIP = PYTHONWARNINGS="ignore:Editable installation" $(BIN)/python -m pip --disable-pip-version-check

.PHONY: install demo dashboard test test-fast bench lint clean

# A current pip first: the venv's bundled pip (23.2 with Python 3.11.7) spends most of the demo's
# install evaluating index links; pip 26 installs the demo extra in 22 s instead of 40 s.
$(BIN)/python:
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install -qq --no-compile --upgrade pip

# --no-compile: Python compiles what is imported when it is first imported; compiling every
# installed module up front would cost ~30 s and ~180 MB the demo never uses.
$(DEMO_STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing dltasks with JupyterLab into $(VENV) (once, under a minute)..."
	@$(PIP) install -qq --no-compile -e ".[demo]"
	@touch $@

# The test extras include everything the demo needs, so this stamps both.
$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install -q -e ".[server,jupyter,demo,test]"
	@touch $@ $(DEMO_STAMP)

install: $(TEST_STAMP)

# The link to open is printed once JupyterLab answers; its own output goes to demo/jupyterlab.log.
demo: $(DEMO_STAMP)
	@$(BIN)/dltasks demo --store $(DEMO_STORE) --lab --port $(PORT)

dashboard: $(DEMO_STAMP)
	@$(BIN)/dltasks demo --store $(DEMO_STORE) > /dev/null
	@echo "The dashboard starts below, on http://127.0.0.1:$(PORT)/"
	@DLTASKS_STORE=$(CURDIR)/$(DEMO_STORE) $(BIN)/voila --no-browser --Voila.ip=127.0.0.1 --port $(PORT) \
		notebooks/dashboard.ipynb

test: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests dltasks --doctest-modules --nbval-lax notebooks

test-fast: $(TEST_STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow and not browser" tests dltasks --doctest-modules

# bench_vs_label_studio installs Label Studio into its own venv: run it by hand
bench: $(TEST_STAMP)
	for b in bench/bench_*.py; do case $$b in *vs_label_studio*) continue;; esac; \
	  echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo *.egg-info .pytest_cache test-artifacts
