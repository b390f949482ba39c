# Two commands do everything on a fresh machine: `make run` and `make test`.
# Every target installs what it needs first and is safe to re-run.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= cpu
STAMP := $(VENV)/.installed

.PHONY: run test venv sysdeps web web-test pyannote-venv lint typecheck unit integration serve-status bench bench-smoke

$(STAMP): pyproject.toml scripts/install_venv.sh scripts/pip_retry.sh
	bash scripts/install_venv.sh $(VENV) $(PY)
	touch $(STAMP)

venv: $(STAMP)

# Debian packages the tests use: PostgreSQL (API suite runs on it too), festival voices (the
# synthetic meeting corpus), Chromium (browser tests). Each script is a no-op when present.
sysdeps:
	bash scripts/ensure_postgres.sh
	bash scripts/ensure_festival.sh
	bash scripts/ensure_chromium.sh

web:
	bash scripts/build_web.sh

# Second venv for the pyannote Diarizer (torch + torchaudio; cannot share the vLLM-CPU venv).
pyannote-venv:
	bash scripts/install_pyannote_venv.sh .venv-pyannote $(PY)

web-test: web
	cd web && npm run lint && npm test

# `make run DIRECT_INGRESS=1`: clients reach the Ingress replica's own port; `make run HAPROXY=1`:
# Serve's HAProxy relays port 8000 to the Ingress replicas (docs/operations.md).
run: $(STAMP) web
	$(BIN)/python -m deployments.run --profile $(PROFILE) $(if $(DIRECT_INGRESS),--direct-ingress) \
		$(if $(HAPROXY),--haproxy)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP) sysdeps web pyannote-venv
	$(BIN)/pytest tests/browser
	$(BIN)/pytest tests/integration

# The README's test command. CI (.ci/run) calls exactly this.
# Three pytest sessions: unit tests never start Ray, and the browser and integration suites
# each run one real cluster of their own.
test: $(STAMP) sysdeps web pyannote-venv
	$(MAKE) lint typecheck web-test
	$(BIN)/pytest tests/unit tests/gpu
	$(BIN)/pytest tests/browser
	$(BIN)/pytest tests/integration

# Benchmarks (docs/benchmarks.md): the default set takes ~10-20 min on 2 cores.
bench: $(STAMP) sysdeps
	$(BIN)/python -m benchmarks all

bench-smoke: $(STAMP) sysdeps
	$(BIN)/python -m benchmarks smoke

serve-status: $(STAMP)
	RAY_AUTH_MODE=token $(BIN)/serve status
