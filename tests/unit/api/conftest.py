"""Fixtures for the REST API suite: a real app on a real database, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app import security
from app.main import create_app
from persistence import Database
from settings.config import Settings
from tests.unit.api.pg_server import PostgresServer, find_bindir

JWT_SECRET = "unit-test-secret-0123456789abcdef0123456789abcdef"
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at production cost is ~0.1 s per hash here; the suite hashes hundreds."""
    monkeypatch.setattr(
        security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(find_bindir())
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of each kind, fresh for every test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'meetings.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(migrated=True)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        login_rate_limit=1000,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def db(client: TestClient, app: FastAPI) -> Database:
    """The app's own database handle, for asserting stored state."""
    database: Database = app.state.db
    return database


@dataclass
class Account:
    id: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    """Short calls for the setup steps most tests share."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def register(self, email: str, password: str = PASSWORD, name: str | None = None) -> Account:
        body: dict[str, Any] = {"email": email, "password": password}
        if name is not None:
            body["name"] = name
        r = self.client.post("/api/auth/register", json=body)
        assert r.status_code == 201, r.text
        token = self.login(email, password)
        return Account(id=r.json()["id"], email=r.json()["email"], token=token)

    def login(self, email: str, password: str = PASSWORD) -> str:
        r = self.client.post("/api/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def create_meeting(self, account: Account, title: str = "Weekly sync") -> dict[str, Any]:
        r = self.client.post("/api/meetings", json={"title": title}, headers=account.headers)
        assert r.status_code == 201, r.text
        meeting: dict[str, Any] = r.json()
        return meeting

    def share(self, owner: Account, meeting_id: str, email: str, role: str = "viewer") -> None:
        r = self.client.post(
            f"/api/meetings/{meeting_id}/members",
            json={"email": email, "role": role},
            headers=owner.headers,
        )
        assert r.status_code == 201, r.text


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)


@pytest.fixture
def alice(api: Api) -> Account:
    return api.register("alice@example.com", name="Alice")


@pytest.fixture
def bob(api: Api) -> Account:
    return api.register("bob@example.com", name="Bob")
