# Every target that needs Python builds .venv itself, so a fresh clone needs nothing by hand.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: help venv system-deps test lint typecheck pytest docs demo bench livekit-venv soak sdk-tests clean

help:
	@echo "make demo   run a proactive session (embedded emulator unless AZURE_VOICELIVE_ENDPOINT is set)"
	@echo "make test   lint, format check, mypy --strict, the docs build and the whole test suite"
	@echo "            (as root with apt: installs libportaudio2, redis-server, chromium, npm)"
	@echo "            (every snippet in README.md and docs/ and every example runs)"
	@echo "make docs   the documentation site into site/ (mkdocs --strict, offline)"
	@echo "make bench  benchmarks against the strongest bare loop; a complete run writes"
	@echo "            benchmarks/results/latest.json, the plots and docs/performance.md"
	@echo "            (BENCH_ARGS='--quick' or '--only scale': a partial run, its own file only;"
	@echo "            '--only peers': versus LiveKit Agents, which runs from .venv-livekit)"
	@echo "make livekit-venv  LiveKit Agents for the peers benchmark, in .venv-livekit (built once)"
	@echo "make soak   the chaos soak alone: 1,000 conversations with random faults (~4 min);"
	@echo "            SOAK_SEED=N repeats a run, SOAK_ARGS='--only 17' replays one conversation"
	@echo "make sdk-tests  the azure-ai-voicelive sdist's tests/live against the emulator (~7 min);"
	@echo "                writes docs/sdk-live-tests.md and scripts/sdk_live/results/latest.json"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(STAMP)

# PortAudio, redis-server, Chromium and npm are system packages: install them when we can
# (root, apt), otherwise the tests that need them skip and say why (the Redis tests start
# their own redis-server on a free loopback port). npm fetches Mermaid's bundle for the docs
# once (then it is cached), so the docs need it the first time.
system-deps:
	@if ldconfig -p 2>/dev/null | grep -q libportaudio.so.2; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing libportaudio2 (apt-get)"; \
		(apt-get install -y -qq libportaudio2 >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libportaudio2 >/dev/null 2>&1)) || \
		echo "warning: could not install libportaudio2; real-device tests will skip"; \
	else echo "note: libportaudio2 missing and not root; real-device tests will skip"; fi
	@if command -v redis-server >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing redis-server (apt-get)"; \
		(apt-get install -y -qq redis-server >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq redis-server >/dev/null 2>&1)) || \
		echo "warning: could not install redis-server; the Redis guard tests will skip"; \
	else echo "note: redis-server missing and not root; the Redis guard tests will skip"; fi
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium (apt-get), for the docs' browser check"; \
		(apt-get install -y -qq chromium >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || \
		echo "warning: could not install chromium; the docs' screenshot tests will skip"; \
	else echo "note: chromium missing and not root; the docs' screenshot tests will skip"; fi
	@if command -v npm >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing npm (apt-get), for the docs' Mermaid bundle"; \
		(apt-get install -y -qq npm >/dev/null 2>&1 || \
		 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq npm >/dev/null 2>&1)) || \
		echo "warning: could not install npm; make docs will say what to do"; \
	else echo "note: npm missing and not root; make docs needs it once (apt-get install npm)"; fi

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy --strict voicelive_proactive
	$(BIN)/mypy --strict examples  # the examples are typed documentation: keep them honest
	$(BIN)/mypy --strict scripts/sdk_live

pytest: venv system-deps docs
	$(BIN)/pytest -W error

# The site: strict (a broken link or a missing reference fails) and offline. Mermaid's
# browser bundle comes from the npm registry once (cached in .cache/docs) and is served
# from the site itself, so the built pages need no network either.
docs: venv system-deps
	$(BIN)/python docs/_tools/fetch_mermaid.py
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

test: lint typecheck pytest

demo: venv
	$(BIN)/voicelive-proactive demo

BENCH_ARGS ?=

bench: venv system-deps
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# LiveKit Agents never enters .venv (make test does not grow, its pins cannot move ours): the
# peers section runs it from .venv-livekit, built from benchmarks/peers/requirements-livekit.txt
# on first use (and rebuilt when that file changes). This target builds it ahead of time.
livekit-venv: venv
	$(BIN)/python -m benchmarks.peers.venv

# The chaos soak on its own (it is also the `soak` section of `make bench`): 1,000
# conversations through the real SDK into the emulator, faults at random, a private
# redis-server. Exit status 1 when a caller heard the greeting twice, a say() was lost, or a
# task or descriptor leaked. SOAK_SEED=N repeats a run's faults; SOAK_ARGS passes options.
SOAK_ARGS ?=
soak: venv system-deps
	$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)

# Not part of `make test`: it takes minutes. It downloads the SDK's sdist and builds a venv for
# its tests under scripts/sdk_live/.cache (both reused). SDK_LIVE_ARGS passes options, e.g.
# SDK_LIVE_ARGS="--emulator-src ../other-worktree -k tools".
SDK_LIVE_ARGS ?=
sdk-tests: venv
	$(BIN)/python -m scripts.sdk_live $(SDK_LIVE_ARGS)

clean:
	rm -rf $(VENV) .venv-livekit .mypy_cache .ruff_cache .pytest_cache site .cache
