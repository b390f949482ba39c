"""Headless Debian Chromium (Playwright's Python driver, the system browser) against the real
platform: the Ray Serve cluster of tests/integration serving the built client at `/`.

Playwright's own browser downloads are never used (`playwright install` needs network access
that CI machines and sandboxes often lack); scripts/ensure_chromium.sh installs Debian's
chromium instead, and scripts/build_web.sh builds web/dist, both only when needed.
"""

from __future__ import annotations

import inspect
import logging
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

# The module, not its `platform`: pytest registers every fixture object found in a conftest's
# namespace, so importing the fixture itself would define a second `platform` here.
from tests.integration import conftest as integration_conftest
from tests.integration.conftest import RunningPlatform

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",  # tests run as root in containers, where the sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
# Two shared cores run the models, Ray and the browser: 5 s (Playwright's default) is too short.
TIMEOUT_MS = 20_000
expect.set_options(timeout=TIMEOUT_MS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Every test here drives a browser against a real Ray Serve cluster.
    for item in items:
        if "tests/browser" in str(item.path):
            for marker in (pytest.mark.browser, pytest.mark.slow, pytest.mark.integration):
                item.add_marker(marker)


def _run_script(name: str) -> None:
    script = REPO_ROOT / "scripts" / name
    result = subprocess.run([str(script)], cwd=REPO_ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        pytest.fail(f"{name} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def web_dist() -> Path:
    """web/dist, built when missing or stale (the script is idempotent and cheap when fresh)."""
    _run_script("build_web.sh")
    dist = REPO_ROOT / "web" / "dist"
    assert (dist / "index.html").is_file(), "build_web.sh did not produce web/dist/index.html"
    return dist


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory, web_dist: Path) -> Iterator[RunningPlatform]:
    """The integration cluster, package-scoped here.

    pytest gives every conftest that defines a fixture its own instance, so a session-scoped
    re-export would start a second Ray cluster in the same process when tests/integration runs
    in the same session (and ray.init would refuse). Package scope shuts this one down before
    tests/integration (collected after tests/browser) starts its own.
    """
    import ray

    if ray.is_initialized():
        pytest.fail(
            "Ray is already initialised in this process (tests/integration's cluster?); run "
            "tests/browser first or in its own pytest session"
        )
    start: Callable[..., Iterator[RunningPlatform]] = inspect.unwrap(integration_conftest.platform)
    yield from start(tmp_path_factory)


# Package scope: Playwright's sync API keeps an event loop running in this thread while it is
# open, which would break every later test that calls asyncio.run() in the same session.
@pytest.fixture(scope="package")
def playwright_driver() -> Iterator[Playwright]:
    if not CHROMIUM.exists():
        _run_script("ensure_chromium.sh")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = playwright_driver.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
    logger.info("driving Chromium %s", chromium.version)
    yield chromium
    chromium.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


def new_context(browser: Browser, platform: RunningPlatform) -> BrowserContext:
    """A fresh profile (own localStorage, so its own session) pointed at the platform."""
    context = browser.new_context(
        base_url=platform.base_url, viewport=VIEWPORT, accept_downloads=True
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


@pytest.fixture
def page(browser: Browser, platform: RunningPlatform) -> Iterator[Page]:
    context = new_context(browser, platform)
    page = context.new_page()
    yield page
    context.close()


def console_errors(page: Page) -> list[str]:
    """Collects the page's console errors and uncaught exceptions from now on."""
    errors: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors
