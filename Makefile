# Two commands on a fresh machine: `make demo` (install, sample data, cut the
# library) and `make test`. Everything installs into ./.venv from PyPI.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DATA   ?= data

.PHONY: install demo test test-fast ui bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed

demo: install
	@if [ ! -f $(DATA)/.sample-data-complete ]; then $(BIN)/hb-clips sample-data $(DATA); fi
	$(BIN)/hb-clips run --data-root $(DATA)

test: install
	$(BIN)/python -m pytest

test-fast: install   # the inner loop: everything but the slow end-to-end and fault tests
	$(BIN)/python -m pytest -m "not slow"

# The same code location as `dg dev` and the daemon: workspace.yaml names it.
ui: install
	$(BIN)/python -m hb_clips_assets.defs.instance_config var/dagster_home
	DAGSTER_HOME=$(CURDIR)/var/dagster_home HB_DATA_ROOT=$(CURDIR)/$(DATA) $(BIN)/dagster dev -w workspace.yaml

bench: install
	$(BIN)/python bench/bench_cut.py

clean:
	rm -rf var
