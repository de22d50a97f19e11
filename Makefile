# The README's two commands: `make run` (service on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: install install-test index run test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# the shared install step: after it, .venv/bin/yibao is the CLI
install: $(BIN)/python
	$(PIP) install -e .

install-test: $(BIN)/python
	$(PIP) install -e '.[test]'

# build the index if it is missing (an unchanged knowledge base does no work)
index: install
	$(BIN)/yibao ingest

run: index
	$(BIN)/yibao chat

test: install-test
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python -m eval.ingest_bench
	$(BIN)/python -m eval.retrieval_bench

clean:
	rm -rf $(VENV) data build *.egg-info
