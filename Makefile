# The README's two commands: `make run` (service on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip --disable-pip-version-check -q
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

CHROMIUM ?= /usr/bin/chromium

.PHONY: install install-test system-deps index run test eval bench clean

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

# the service on http://127.0.0.1:8000: student chat /, counselor console /counselor, API docs /docs
run: index
	$(BIN)/yibao serve

# what the tests start or drive (Debian packages; root or sudo): headless Chromium and a Chinese font for the
# browser tests, redis-server for the scale-out tests (the Chroma server comes with the chromadb package)
system-deps:
	@if [ ! -x $(CHROMIUM) ] || ! fc-list :lang=zh 2>/dev/null | grep -q . || ! command -v redis-server >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing chromium fonts-wqy-zenhei redis-server"; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    chromium fonts-wqy-zenhei redis-server; \
	fi

# after the tests, the dev set in-process: a regression gate (floor below today's 0.938, room for noise)
test: install-test system-deps
	$(BIN)/python -m pytest
	$(BIN)/yibao ingest -q
	$(BIN)/yibao eval --set dev --no-baselines --min-accuracy 0.88 --report build/eval

# evaluation report with baselines and charts (build/eval-report/report.md)
eval: install-test index
	$(BIN)/yibao eval --set test --report build/eval-report

bench: install-test
	$(BIN)/python -m eval.ingest_bench
	$(BIN)/python -m eval.retrieval_bench
	$(BIN)/python -m eval.answer_bench
	$(BIN)/python -m eval.load_bench

clean:
	rm -rf $(VENV) data build *.egg-info
