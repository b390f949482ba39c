"""No password or token ever reaches a log record, at any level, from any library."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from settings.config import Settings

WATCHED_LOGGERS = [
    "",
    "app",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "fastapi",
    "starlette",
    "sqlalchemy",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "alembic",
    "httpx",
    "httpcore",
]
SECRET_PASSWORD = "Pa55word-that-must-not-leak"


def test_no_password_or_token_in_logs(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    for name in WATCHED_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    with TestClient(create_app(settings)) as client:
        client.post(
            "/api/auth/register", json={"email": "alice@example.com", "password": SECRET_PASSWORD}
        )
        client.post("/api/auth/login", json={"email": "alice@example.com", "password": "wrong-one"})
        token = client.post(
            "/api/auth/login", json={"email": "alice@example.com", "password": SECRET_PASSWORD}
        ).json()["access_token"]
        form_token = client.post(
            "/api/auth/token", data={"username": "alice@example.com", "password": SECRET_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/auth/me", headers=headers).status_code == 200
        meeting = client.post("/api/meetings", json={"title": "t"}, headers=headers).json()
        client.get(f"/api/meetings/{meeting['id']}/events", headers=headers)
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}x"})
        client.post("/api/auth/register", json={"email": "bob@example.com", "password": "Zq9-xw"})

    assert len(caplog.records) > 20, "the capture must actually see library logs"
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)
    everything = caplog.text + "\n".join(str(r.__dict__) for r in caplog.records)
    for secret in (SECRET_PASSWORD, "wrong-one", "Zq9-xw", token, form_token):
        assert secret not in everything
    # Token fragments (signature) would be as bad as the whole token.
    assert token.rsplit(".", 1)[1] not in everything
