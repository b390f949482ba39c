"""Security headers on the web client, the API and the docs (issue #15, item 9), and the built
client still working under its Content-Security-Policy in real Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import sync_playwright

from settings.config import REPO_ROOT, Settings
from app.main import create_app
from app.security_headers import APP_POLICY, DOCS_POLICY
from tests.unit.rooms.live_server import LiveServer

DIST = REPO_ROOT / "web" / "dist"
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path,
        jwt_secret="headers-test-secret-0123456789abcdef",
        web_dist_dir=DIST,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/healthz", 200),
        ("GET", "/api/auth/me", 401),
        ("POST", "/api/meetings", 413),
        ("GET", "/", 200),
        ("GET", "/meetings/abc", 200),
    ],
)
def test_every_response_carries_the_headers(
    client: TestClient, method: str, path: str, status: int
) -> None:
    body = b"x" * 70_000 if method == "POST" else None
    r = client.request(method, path, content=body)
    assert r.status_code == status
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "no-referrer"
    assert r.headers["Content-Security-Policy"] == APP_POLICY
    assert "frame-ancestors 'none'" in APP_POLICY


def test_api_docs_get_their_own_policy(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["Content-Security-Policy"] == DOCS_POLICY


@pytest.mark.browser
def test_built_client_runs_under_its_policy(settings: Settings) -> None:
    assert (DIST / "index.html").is_file(), "build the client first: scripts/build_web.sh"
    [worklet] = [p.name for p in (DIST / "assets").glob("recorder.worklet-*.js")]
    server = LiveServer(create_app(settings)).start()
    violations: list[str] = []
    try:
        with sync_playwright() as driver:
            browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            page = browser.new_page()
            page.on(
                "console",
                lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
            )
            page.goto(server.http_url + "/")
            page.wait_for_selector("#root *", timeout=10_000)  # React rendered
            loaded = page.evaluate(
                """async (url) => {
                    const context = new AudioContext();
                    await context.audioWorklet.addModule(url);
                    return true;
                }""",
                f"/assets/{worklet}",
            )
            opened = page.evaluate(
                """() => new Promise((resolve) => {
                    const ws = new WebSocket(`ws://${location.host}/ws/meeting/x`);
                    ws.onopen = () => { ws.close(); resolve(true); };
                    ws.onerror = () => resolve(false);
                })"""
            )
            browser.close()
    finally:
        server.stop()
    assert violations == []
    assert loaded is True  # the recorder's AudioWorklet loads under script-src 'self'
    assert opened is True  # same-origin WebSocket allowed by connect-src 'self'
