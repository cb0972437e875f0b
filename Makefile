# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
# Two install levels: the demo needs the engine and a notebook runner; the tests need much more.
DEMO_STAMP := $(VENV)/.nbaudio-demo-installed
STAMP := $(VENV)/.nbaudio-installed
# llama-cpp-python (the local chat model) has no Linux wheel: tools/install.py compiles it with the
# flags it names (CHAT_BUILD_ENV), in a background worker for `make demo`.
CHAT_BUILD := $(VENV)/.nbaudio-chat-build.json

# nbval: notebooks run in a fresh kernel on the embedded engine; volatile outputs are masked.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: install system-deps node-deps lint test test-fast demo lab labextension clean bench

# nbaudio's JupyterLab extension (labextension/: %%voice cells shown as plain text, not Python), built
# and committed here. JupyterLab loads prebuilt extensions from {sys.prefix}/share/jupyter/labextensions:
# a wheel puts it there (pyproject.toml's data-files); an editable install places no data files, so
# the venv gets a link to the checkout's build (which follows `make labextension`).
LABEXT := share/jupyter/labextensions/nbaudio-lab
LINK_LABEXT = mkdir -p $(VENV)/$(dir $(LABEXT)) && rm -rf $(VENV)/$(LABEXT) && ln -s $(CURDIR)/$(LABEXT) $(VENV)/$(LABEXT)

# tools/install.py creates the venv and runs pip, printing what it is doing (pip's log: build/install.log).
# For the demo it installs everything but llama-cpp-python and leaves that compiling in a worker
# (log: build/chat-build.log), which touches the stamp once it is in; the test install waits for it.
$(DEMO_STAMP): pyproject.toml Makefile
	@$(PYTHON) tools/install.py --venv $(VENV) --extras local,demo --chat-build background --stamp $@
	@$(LINK_LABEXT)

$(STAMP): $(DEMO_STAMP)
	@$(PYTHON) tools/install.py --venv $(VENV) --extras local,test --stamp $@

install: $(STAMP)

# Debian's chromium runs the browser tests (a test tool's own browser download does not work
# here); installed when missing and we are root. Nothing else needs a system package.
SYSTEM_PACKAGES := chromium chromium-driver
system-deps:
	@if ! test -x /usr/bin/chromium; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing $(SYSTEM_PACKAGES) for the browser tests (apt-get)"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else echo "note: install $(SYSTEM_PACKAGES) with apt-get for the browser tests"; fi; \
	fi

# The layers (import-linter contracts in pyproject.toml) and the style (ruff), in seconds, from
# their own small venv (tools/lint-requirements.txt says why).
LINT_VENV := $(VENV)-lint
$(LINT_VENV)/.installed: tools/lint-requirements.txt
	@$(PYTHON) -m venv $(LINT_VENV)
	@$(LINT_VENV)/bin/python -m pip install -q -r tools/lint-requirements.txt
	@touch $@

lint: $(LINT_VENV)/.installed
	$(LINT_VENV)/bin/ruff check nbaudio tests tools benchmarks experiments
	$(LINT_VENV)/bin/lint-imports

# The official openai Node SDK for tests/engine/test_tls.py (its Realtime client against the engine
# over wss://): the versions locked in tests/node/package-lock.json, installed by npm ci into
# tests/node/node_modules. Without npm the step says so and that test is skipped (it needs node).
NODE_TESTS := tests/node/node_modules/.package-lock.json
$(NODE_TESTS): tests/node/package.json tests/node/package-lock.json
	@if command -v npm >/dev/null; then cd tests/node && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "note: install node and npm for the Node SDK test (tests/engine/test_tls.py)"; fi

node-deps: $(NODE_TESTS)

# Two workers, a test file to each at a time: most tests wait on loopback servers, models and the
# browser, so two share the two cores well; a file's tests stay together with its module fixtures.
# The files go out longest first, by the times of the last run (tests/support/durations.py);
# --no-loadscope-reorder keeps that order (xdist would otherwise send the files with most tests first).
test: lint $(STAMP) system-deps node-deps
	$(BIN)/python -m pytest tests notebooks $(NBVAL) -n 2 --dist loadfile --no-loadscope-reorder

# The tests that need no engine, browser, relay or engine packages, on a light install of their own
# (no model weights, no llama.cpp build: about a minute to install, half a minute to run on 2 cores).
# tests/support/needs.py checks the markers; this lane checks that the light install suffices.
FAST_VENV := $(VENV)-fast
$(FAST_VENV)/.installed: pyproject.toml
	@$(PYTHON) -m venv $(FAST_VENV)
	@$(FAST_VENV)/bin/python -m pip install -q -e '.[fast]'
	@touch $@

test-fast: $(FAST_VENV)/.installed
	$(FAST_VENV)/bin/python -m pytest tests -m "not engine and not browser and not relay and not local" -q -n 4

# Speed and size against the peers (librosa, IPython, requests, openai, faster-whisper, piper);
# writes docs/benchmarks.md. Not part of `make test`; about 5 minutes on 2 cores (more on the first run).
BENCH_STAMP := $(VENV)/.nbaudio-bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[local,test,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

# Runs notebooks/01_quickstart.ipynb on the embedded engine and writes build/quickstart.html: first
# up to its chat part if the chat model is still compiling, then whole once it is installed.
demo: $(DEMO_STAMP)
	@$(BIN)/python -m nbaudio.demo --out build --chat-build $(CHAT_BUILD)

lab: $(STAMP)
	$(BIN)/python -m jupyterlab --ServerApp.root_dir=notebooks

# Rebuilds the extension after a change to labextension/src (commit the result: neither the install
# nor the tests run npm). npm ci installs the locked versions (package-lock.json); @jupyter/builder
# builds against the venv's JupyterLab (4.6.6 when this was built), whose packages the bundle shares.
labextension:
	cd labextension && npm ci --no-audit --no-fund
	rm -rf $(LABEXT)
	cd labextension && PATH=$(abspath $(BIN)):$$PATH jupyter-builder build .

clean:
	rm -rf $(VENV) $(LINT_VENV) $(FAST_VENV) build .pytest_cache labextension/node_modules tests/node/node_modules
