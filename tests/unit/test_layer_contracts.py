"""The layer rules in pyproject's [tool.importlinter] hold, and a violation breaks `make lint`."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports() -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=REPO_ROOT, capture_output=True, text=True
    )


@pytest.fixture
def probe_module(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A throwaway module inside a real package of the tree, removed whatever happens."""
    path = REPO_ROOT / request.param / f"_layer_probe_{uuid.uuid4().hex[:8]}.py"
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def test_the_tree_keeps_every_layer_contract() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 kept, 0 broken" in result.stdout


CORE_RULE = "The model-free core imports no other layer and no model or web runtime"
WEB_RULE = "The web layer never imports Ray, torch, model runtimes or the deployments"
INGRESS_RULE = "Only the Ingress deployment imports the web application"
DEPLOYMENTS_RULE = "Deployments other than the Ingress import nothing from the web layer"
SHARED_RULE = "Shared layers never import the web layer, deployments, Ray or models"
STACK_RULE = "Shared layers stack: Processor API, rooms/webhooks, DB, settings"


@pytest.mark.parametrize(
    ("probe_module", "statement", "contract"),
    [
        ("core", "import persistence", CORE_RULE),
        ("core", "import ray", CORE_RULE),
        ("app", "import torch", WEB_RULE),
        ("app", "import deployments.processor", WEB_RULE),
        ("deployments", "import app.main", INGRESS_RULE),
        ("deployments", "import app.security", DEPLOYMENTS_RULE),
        ("persistence", "import app.security", SHARED_RULE),
        ("rooms", "import ray", SHARED_RULE),
        ("webhooks", "import deployments.processor", SHARED_RULE),
        ("persistence", "import rooms.hub", STACK_RULE),
        ("settings", "import persistence", STACK_RULE),
        ("rooms", "import webhooks.outbox", STACK_RULE),
    ],
    indirect=["probe_module"],
)
def test_a_deliberate_violation_breaks_the_lint(
    probe_module: Path, statement: str, contract: str
) -> None:
    probe_module.write_text(f'"""A deliberate layer violation."""\n\n{statement}\n')
    result = lint_imports()
    assert result.returncode != 0
    assert f"{contract} BROKEN" in result.stdout
    assert probe_module.stem in result.stdout
