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

# The clip room's one third-party browser file, hls.js (HLS reels where the browser has MSE), from the npm
# registry at the version web/package-lock.json pins, copied into the package's static/vendor/ (ignored by
# git, shipped as package data). Without npm the room still works (reels play clip by clip); CI requires it.
ROOM_VENDOR := hb_clips_assets/retrieval/room/static/vendor
HLS_DIST    := web/node_modules/hls.js/dist

$(ROOM_VENDOR)/hls.min.mjs: web/package.json web/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  if [ "$$HB_REQUIRE_SERVERS" = 1 ]; then echo "npm is needed for the clip room's hls.js" >&2; exit 1; fi; \
	  echo "npm not found: the clip room will play reels clip by clip (MP4), without hls.js" >&2; \
	else \
	  cd web && npm ci --no-audit --no-fund --loglevel=error && cd .. && mkdir -p $(ROOM_VENDOR) && \
	  cp $(HLS_DIST)/hls.worker.js $(ROOM_VENDOR)/ && cp web/node_modules/hls.js/LICENSE $(ROOM_VENDOR)/hls.js-LICENSE.txt && \
	  cp $(HLS_DIST)/hls.min.mjs $(ROOM_VENDOR)/; \
	fi

install: $(BIN)/.installed $(ROOM_VENDOR)/hls.min.mjs

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
