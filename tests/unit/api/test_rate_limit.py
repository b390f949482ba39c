"""Brute force on login/register hits 429 with Retry-After and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.config import Settings
from app.db import Database, User
from app.main import create_app
from app.ratelimit import RateLimited, SlidingWindowLimiter
from tests.unit.api.conftest import PASSWORD


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_limiter_allows_limit_hits_then_reports_retry_after() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=3, window_s=60, clock=clock)
    for _ in range(3):
        limiter.hit(["ip:1"])
        clock.now += 10
    with pytest.raises(RateLimited) as refused:
        limiter.hit(["ip:1"])
    assert refused.value.retry_after_s == 30  # the first hit (t=1000) leaves at t=1060
    assert refused.value.key == "ip:1"
    clock.now = 1060.0
    limiter.hit(["ip:1"])  # one slot freed


def test_limiter_counts_nothing_when_any_key_is_over() -> None:
    clock = FakeClock()
    limiter = SlidingWindowLimiter(limit=1, window_s=60, clock=clock)
    limiter.hit(["account:a"])
    with pytest.raises(RateLimited):
        limiter.hit(["ip:2", "account:a"])
    limiter.hit(["ip:2"])  # the refused attempt did not use ip:2's only slot


@pytest.fixture
def strict_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"login_rate_limit": 3, "login_rate_window_s": 60.0})


@pytest.fixture
def strict_client(strict_settings: Settings) -> Iterator[TestClient]:
    app: FastAPI = create_app(strict_settings)
    with TestClient(app) as client:
        yield client


def test_brute_force_login_gets_429_even_with_the_right_password(
    strict_client: TestClient,
) -> None:
    assert (
        strict_client.post(
            "/api/auth/register", json={"email": "alice@example.com", "password": PASSWORD}
        ).status_code
        == 201
    )
    statuses = [
        strict_client.post(
            "/api/auth/login", json={"email": "alice@example.com", "password": f"guess-{i}"}
        ).status_code
        for i in range(2)
    ]
    assert statuses == [401, 401]  # register + 2 guesses used this IP's 3 attempts
    r = strict_client.post(
        "/api/auth/login", json={"email": "alice@example.com", "password": PASSWORD}
    )
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert r.json()["detail"].startswith("Too many attempts; try again in ")
    assert "access_token" not in r.json()


def test_register_flood_gets_429_and_creates_no_account(strict_client: TestClient) -> None:
    for i in range(3):
        r = strict_client.post(
            "/api/auth/register", json={"email": f"u{i}@example.com", "password": PASSWORD}
        )
        assert r.status_code == 201
    r = strict_client.post(
        "/api/auth/register", json={"email": "u3@example.com", "password": PASSWORD}
    )
    assert r.status_code == 429
    assert "Retry-After" in r.headers
    db: Database = strict_client.app.state.db  # type: ignore[attr-defined]
    with db.session() as s:
        emails = sorted(s.scalars(select(User.email)))
        assert emails == ["u0@example.com", "u1@example.com", "u2@example.com"]
        assert s.scalar(select(func.count()).select_from(User)) == 3


def test_limit_is_per_account_across_ips(strict_settings: Settings) -> None:
    app = create_app(strict_settings)
    with TestClient(app) as client:
        client.post("/api/auth/register", json={"email": "alice@example.com", "password": PASSWORD})
        limiter = app.state.login_limiter
        limiter.reset("ip:testclient")
        for _ in range(2):
            client.post(
                "/api/auth/login", json={"email": "alice@example.com", "password": "nope-nope"}
            )
        limiter.reset("ip:testclient")  # as if the attacker switched address
        r = client.post(
            "/api/auth/login", json={"email": "alice@example.com", "password": "x1234567"}
        )
        assert r.status_code == 429
