"""app.static.mount_web: SPA serving, fallback, reserved prefixes and the not-built page."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.static import is_reserved_path, mount_web, resolve_asset

INDEX = "<!doctype html><div id=root></div>"


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    dist_dir = tmp_path / "dist"
    (dist_dir / "assets").mkdir(parents=True)
    (dist_dir / "index.html").write_text(INDEX)
    (dist_dir / "assets" / "index-abc123.js").write_text("console.log(1)")
    (dist_dir / "favicon.svg").write_text("<svg/>")
    (dist_dir / ".meetingserve-build-stamp").write_text("")
    (tmp_path / "secret.txt").write_text("outside")
    return dist_dir


def make_client(dist_dir: Path) -> TestClient:
    app = FastAPI()

    @app.get("/api/ping")
    async def get_ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.get("/healthz")
    async def get_healthz() -> dict[str, str]:
        return {"status": "ok"}

    mount_web(app, dist_dir)
    return TestClient(app)


def test_serves_index_at_root_and_for_client_routes(dist: Path) -> None:
    client = make_client(dist)
    for path in ("/", "/meetings/abc123", "/login"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.text == INDEX
        assert response.headers["content-type"].startswith("text/html")
        assert response.headers["cache-control"] == "no-cache"


def test_serves_fingerprinted_assets_with_long_cache(dist: Path) -> None:
    client = make_client(dist)
    response = client.get("/assets/index-abc123.js")
    assert response.status_code == 200
    assert response.text == "console.log(1)"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get("/favicon.svg").headers["cache-control"] == "no-cache"
    assert client.head("/").status_code == 200


def test_missing_asset_is_404_not_html(dist: Path) -> None:
    response = make_client(dist).get("/assets/index-old.js")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_never_shadows_backend_paths(dist: Path) -> None:
    client = make_client(dist)
    assert client.get("/api/ping").json() == {"pong": "yes"}
    assert client.get("/healthz").json() == {"status": "ok"}
    for path in ("/api/nope", "/ws/meeting/x", "/docs/x", "/openapi.json/x", "/readyz"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Not Found"}


def test_refuses_traversal_and_hidden_files(dist: Path) -> None:
    assert resolve_asset(dist, "../secret.txt") is None
    assert resolve_asset(dist, ".meetingserve-build-stamp") is None
    assert resolve_asset(dist, "assets") is None
    assert resolve_asset(dist, "favicon.svg") == (dist / "favicon.svg").resolve()
    client = make_client(dist)
    assert client.get("/.meetingserve-build-stamp").text == INDEX
    assert client.get("/..%2Fsecret.txt").text == INDEX


def test_without_a_build_root_explains_how_to_build(tmp_path: Path) -> None:
    client = make_client(tmp_path / "missing")
    response = client.get("/")
    assert response.status_code == 200
    assert "scripts/build_web.sh" in response.text
    assert "The web client is not built yet" in response.text
    assert client.get("/meetings/abc").status_code == 404
    assert client.get("/api/ping").json() == {"pong": "yes"}


def test_build_after_start_is_picked_up(tmp_path: Path) -> None:
    dist_dir = tmp_path / "dist"
    client = make_client(dist_dir)
    assert "not built" in client.get("/").text
    dist_dir.mkdir()
    (dist_dir / "index.html").write_text(INDEX)
    assert client.get("/").text == INDEX


@pytest.mark.parametrize(
    ("path", "reserved"),
    [
        ("api/meetings", True),
        ("/ws/meeting/1", True),
        ("openapi.json", True),
        ("apiary", False),
        ("meetings/api", False),
        ("", False),
    ],
)
def test_is_reserved_path(path: str, reserved: bool) -> None:
    assert is_reserved_path(path) is reserved
