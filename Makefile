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
	@echo "JupyterLab starts below; open the http://127.0.0.1:$(PORT)/lab/tree/notebooks/01_quickstart.ipynb?token=... link it prints."
	DLTASKS_STORE=$(CURDIR)/$(DEMO_STORE) $(BIN)/jupyter lab --no-browser --ip 127.0.0.1 --port $(PORT) \
		$(ROOT_FLAG) --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/notebooks/01_quickstart.ipynb \
		--LabApp.news_url=None

dashboard: $(STAMP)
	$(BIN)/dltasks demo --store $(DEMO_STORE)
	@echo "The dashboard starts below, on http://127.0.0.1:$(PORT)/"
	DLTASKS_STORE=$(CURDIR)/$(DEMO_STORE) $(BIN)/voila --no-browser --Voila.ip=127.0.0.1 --port $(PORT) \
		notebooks/dashboard.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider tests dltasks --doctest-modules --nbval-lax notebooks

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -x -m "not slow and not browser" tests dltasks --doctest-modules

bench: $(STAMP)
	for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) demo *.egg-info .pytest_cache test-artifacts
