# The few verbs a newcomer needs. `make run` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# llama-cpp-python compiles llama.cpp from source (about 10 minutes on 2 cores, once):
# scripts/build-llama-wheel.sh keeps the wheel in a folder named by the version and CMAKE_ARGS, so
# a change of flags builds anew (pip's own wheel cache would hand back the old build).
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc)
# llama.cpp's AMX kernels die with a general protection fault (the whole process, the server with
# it) on virtual machines whose CPU reports AMX that the hypervisor does not enable, as machines of
# this project's CI kind do. A native build takes them from -march=native, so they are switched
# off by name; x86-64 only, the flags are x86's. Both llama-cpp-python and llama-server get them.
# A CMAKE_ARGS of your own (CUDA, Metal, ...) replaces this one: add the flags to it on such a VM.
ifeq ($(shell uname -m),x86_64)
export LLAMA_CPU_FLAGS ?= -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CMAKE_ARGS ?= -DCMAKE_C_FLAGS="$(LLAMA_CPU_FLAGS)" -DCMAKE_CXX_FLAGS="$(LLAMA_CPU_FLAGS)"
endif
PIP := $(BIN)/python -m pip install --disable-pip-version-check --quiet
# GNU make 4.3 does not pass exported variables to $(shell): CMAKE_ARGS is given by hand.
LLAMA_WHEEL_DIR := $(shell CMAKE_ARGS='$(CMAKE_ARGS)' scripts/build-llama-wheel.sh --path)
# The llama-cpp-python built for these flags, installed before the rest so pip keeps it.
INSTALL_LLAMA = $(PIP) --force-reinstall --no-deps "$$(PYTHON=$(BIN)/python scripts/build-llama-wheel.sh)"
# A location in examples/ (1-based line and column) that `make run` completes.
EXAMPLE ?= examples/python/inventory.py:36:9

VSCODE := clients/vscode

.PHONY: help run test test-python test-vscode setup setup-test system-deps system-deps-test \
        llama-server vsix lint lint-python lint-vscode lint-lua bench clean

help:
	@echo "make run     set up .venv (model included) and complete $(EXAMPLE)"
	@echo "make test    set up everything the tests need and run the whole suite"
	@echo "make lint    ruff (check and format) on server, tests, benchmarks; mypy (strict);"
	@echo "             tsc on the VS Code extension; the Lua format check of the Neovim plugin"
	@echo "make vsix    package the VS Code extension into clients/vscode/"
	@echo "make bench   the latency benchmark (see benchmarks/RESULTS.md)"

run: setup
	@echo "--- ghosttype complete $(EXAMPLE)" >&2
	$(BIN)/ghosttype complete $(EXAMPLE)

system-deps:
	@scripts/system-deps.sh --check-venv

system-deps-test:
	@scripts/system-deps.sh --check-venv tmux bubblewrap

$(BIN)/python: | system-deps
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip

$(LLAMA_WHEEL_DIR): | $(BIN)/python
	@PYTHON=$(BIN)/python scripts/build-llama-wheel.sh >/dev/null

$(VENV)/.installed: pyproject.toml $(LLAMA_WHEEL_DIR) | $(BIN)/python
	$(INSTALL_LLAMA)
	$(PIP) -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(LLAMA_WHEEL_DIR) | $(BIN)/python
	$(INSTALL_LLAMA)
	$(PIP) -e '.[test]'
	@touch $@ $(VENV)/.installed

setup: $(VENV)/.installed

setup-test: system-deps-test $(VENV)/.installed-test

llama-server: setup-test
	@PYTHON=$(BIN)/python scripts/build-llama-server.sh >/dev/null

test: test-python test-vscode

test-python: setup-test llama-server
	$(BIN)/python -m pytest

test-vscode: setup-test
	clients/vscode/scripts/test.sh

# Every check, also from nothing (CI runs `make lint` before `make test`); `make -k lint` runs
# them all past a failure.
lint: lint-python lint-vscode lint-lua

lint-python: setup-test
	$(BIN)/ruff check server tests benchmarks
	$(BIN)/ruff format --check server tests benchmarks
	$(BIN)/mypy

# The extension's dependencies as its own scripts install them (Node 24 from npm, npm ci), again
# only when package-lock.json changes: npm writes node_modules/.package-lock.json on every install.
$(VSCODE)/node_modules/.package-lock.json: $(VSCODE)/package-lock.json
	node="$$($(VSCODE)/scripts/ensure-node.sh)" && cd $(VSCODE) && PATH="$$node:$$PATH" npm ci --no-audit --no-fund
	@touch $@

lint-vscode: $(VSCODE)/node_modules/.package-lock.json
	node="$$($(VSCODE)/scripts/ensure-node.sh)" && PATH="$$node:$$PATH" $(VSCODE)/node_modules/.bin/tsc --noEmit -p $(VSCODE)

lint-lua:
	clients/neovim/scripts/lint.sh

vsix:
	clients/vscode/scripts/package.sh

bench: setup-test
	$(BIN)/python benchmarks/latency.py

clean:
	rm -rf $(VENV) $(VSCODE)/node_modules $(VSCODE)/out artifacts
