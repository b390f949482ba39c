"""Registration, login (JSON and OAuth2 form), /me and input validation."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from persistence import Database, User
from tests.unit.api.conftest import PASSWORD, Account, Api


def count_users(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(User)) or 0)


def test_register_returns_public_user_and_normalises_email(client: TestClient) -> None:
    r = client.post(
        "/api/auth/register",
        json={"email": "  Carol.Smith@Example.COM ", "password": PASSWORD, "name": "Carol"},
    )
    assert r.status_code == 201
    body = r.json()
    assert set(body) == {"id", "email", "name"}
    assert body["email"] == "carol.smith@example.com"
    assert body["name"] == "Carol"


def test_register_without_name_uses_local_part(client: TestClient) -> None:
    r = client.post("/api/auth/register", json={"email": "dave@example.com", "password": PASSWORD})
    assert r.status_code == 201
    assert r.json()["name"] == "dave"


def test_register_taken_email_is_409_whatever_the_case(
    client: TestClient, alice: Account, db: Database
) -> None:
    r = client.post(
        "/api/auth/register", json={"email": "ALICE@example.com", "password": "x" * 7 + "yz"}
    )
    assert r.status_code == 409
    assert r.json()["detail"] == "An account with this email exists"
    assert count_users(db) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "eve@example.com", "password": "short1"}, "password"),
        ({"email": "eve@example.com", "password": "a" * 129}, "password"),
        ({"email": "eve@example.com", "password": "aaaaaaaaaa"}, "password"),
        ({"email": "eve@example.com", "password": "          "}, "password"),
        ({"email": "eve@example.com"}, "password"),
    ],
)
def test_register_rejects_invalid_input_with_422(
    client: TestClient, db: Database, body: dict[str, str], field: str
) -> None:
    r = client.post("/api/auth/register", json=body)
    assert r.status_code == 422
    errors = r.json()["detail"]
    assert [e["loc"] for e in errors] == [["body", field]]
    assert all("input" not in e for e in errors), "422 bodies must not echo passwords back"
    assert count_users(db) == 0


def test_login_returns_bearer_token(client: TestClient, alice: Account) -> None:
    r = client.post("/api/auth/login", json={"email": "Alice@Example.com", "password": PASSWORD})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 8 * 3600
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.json() == {"id": alice.id, "email": "alice@example.com", "name": "Alice"}


@pytest.mark.parametrize(
    ("email", "password"),
    [("alice@example.com", "wrong password"), ("nobody@example.com", PASSWORD)],
)
def test_login_with_bad_credentials_is_401_with_one_message(
    client: TestClient, alice: Account, email: str, password: str
) -> None:
    r = client.post("/api/auth/login", json={"email": email, "password": password})
    assert r.status_code == 401
    assert r.json() == {"detail": "Incorrect email or password"}
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_oauth2_form_login_works_for_docs_authorize(client: TestClient, alice: Account) -> None:
    r = client.post("/api/auth/token", data={"username": "alice@example.com", "password": PASSWORD})
    assert r.status_code == 200
    token = r.json()["access_token"]
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    bad = client.post("/api/auth/token", data={"username": "alice@example.com", "password": "no"})
    assert bad.status_code == 401


def test_me_without_token_is_401(client: TestClient) -> None:
    r = client.get("/api/auth/me")
    assert r.status_code == 401
    assert r.json() == {"detail": "Not authenticated"}


def test_json_body_over_limit_is_413_and_stores_nothing(
    client: TestClient, db: Database, alice: Account
) -> None:
    limit = client.app.state.settings.max_json_body_bytes  # type: ignore[attr-defined]
    r = client.post("/api/meetings", json={"title": "x" * (limit + 1)}, headers=alice.headers)
    assert r.status_code == 413
    assert r.json() == {"detail": f"Request body too large (limit {limit} bytes)"}


def test_chunked_json_body_over_limit_is_413(client: TestClient, alice: Account) -> None:
    limit = client.app.state.settings.max_json_body_bytes  # type: ignore[attr-defined]
    payload = b'{"title": "' + b"x" * limit + b'"}'

    def chunks() -> object:
        for i in range(0, len(payload), 4096):
            yield payload[i : i + 4096]

    r = client.post(
        "/api/meetings",
        content=chunks(),  # type: ignore[arg-type]
        headers={**alice.headers, "Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_registered_user_can_log_in_after_restart(api: Api, client: TestClient) -> None:
    account = api.register("frank@example.com")
    with TestClient(client.app) as second:  # a new lifespan: migrations run again
        r = second.get("/api/auth/me", headers=account.headers)
    assert r.status_code == 200
