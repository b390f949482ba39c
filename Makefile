# Two commands do everything on a fresh machine: `make run` and `make test`.
# Every target installs what it needs first and is safe to re-run.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PROFILE ?= cpu
STAMP := $(VENV)/.installed

.PHONY: run test venv lint typecheck unit integration web clean-var serve-status

$(STAMP): pyproject.toml scripts/install_venv.sh
	bash scripts/install_venv.sh $(VENV) $(PY)
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python -m deployments.run --profile $(PROFILE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest tests/unit

integration: $(STAMP)
	$(BIN)/pytest tests/integration

# The README's test command. CI (.ci/run) calls exactly this.
test: $(STAMP)
	$(MAKE) lint typecheck
	$(BIN)/pytest tests

serve-status: $(STAMP)
	RAY_AUTH_MODE=token $(BIN)/serve status
