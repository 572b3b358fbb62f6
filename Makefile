# Quick start: `make demo` (JupyterLab on the quickstart notebook with a demo store) and
# `make test` (the whole suite).  Both create .venv and install what they need.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
DEMO_STORE ?= demo/dltasks.db
PORT   ?= 8888
ROOT_FLAG := $(shell [ "$$(id -u)" = "0" ] && echo --allow-root)

.PHONY: install demo dashboard test test-fast bench lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[server,jupyter,test]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/dltasks demo --store $(DEMO_STORE)
	@echo "Opening JupyterLab on http://127.0.0.1:$(PORT)/lab/tree/notebooks/01_quickstart.ipynb"
	DLTASKS_STORE=$(CURDIR)/$(DEMO_STORE) $(BIN)/jupyter lab --no-browser --ip 127.0.0.1 --port $(PORT) \
		$(ROOT_FLAG) --ServerApp.root_dir=$(CURDIR) notebooks/01_quickstart.ipynb

dashboard: $(STAMP)
	$(BIN)/dltasks demo --store $(DEMO_STORE)
	DLTASKS_STORE=$(CURDIR)/$(DEMO_STORE) $(BIN)/voila --no-browser --port $(PORT) notebooks/dashboard.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests dltasks --doctest-modules --nbval-lax notebooks

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow and not browser" tests dltasks --doctest-modules

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo *.egg-info .pytest_cache test-artifacts
