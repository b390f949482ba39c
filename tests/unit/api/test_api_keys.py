"""API keys: format and hashing, the REST endpoints, scoping, rate limits, batched usage,
and keys on the room socket, against the real app and database."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.apikeys import (
    UsageRecorder,
    generate_api_key,
    hash_api_key,
    looks_like_api_key,
    parse_api_key,
)
from app.redaction import redact_tokens
from app.security import AuthenticationError
from persistence import Database
from persistence.api_keys import KeyUsage
from persistence.models import ApiKey
from settings.config import Settings
from tests.unit.api.conftest import Account, Api

# ---- format, hashing, usage recorder (no app) ----------------------------------------------


def test_generated_keys_parse_to_their_prefix_and_store_only_a_hash() -> None:
    first, second = generate_api_key(), generate_api_key()
    assert first.plaintext != second.plaintext and first.prefix != second.prefix
    scheme, prefix, secret = first.plaintext.split("_", 2)
    assert (scheme, prefix) == ("msk", first.prefix)
    assert len(secret) == 43  # 256 random bits, URL-safe base64
    assert parse_api_key(first.plaintext) == first.prefix
    assert first.secret_hash == hashlib.sha256(first.plaintext.encode()).hexdigest()
    assert secret not in first.secret_hash and hash_api_key(second.plaintext) != first.secret_hash


@pytest.mark.parametrize(
    "token",
    [
        "msk_",
        "msk_0123456789ab",
        "msk_0123456789AB_" + "a" * 43,  # prefix is lower-case hex
        "msk_0123456789ab_" + "a" * 42,
        "msk_0123456789ab_" + "a" * 43 + "x",
        "msk_0123456789ab_" + "a" * 42 + "!",
        "sk-0123456789ab_" + "a" * 43,
    ],
)
def test_malformed_keys_are_refused_before_any_lookup(token: str) -> None:
    with pytest.raises(AuthenticationError):
        parse_api_key(token)


def test_only_the_key_scheme_is_taken_for_a_key() -> None:
    assert looks_like_api_key(generate_api_key().plaintext)
    assert not looks_like_api_key("eyJhbGciOiJIUzI1NiJ9.e30.sig")


def test_usage_is_handed_over_only_when_a_flush_is_due() -> None:
    now = [0.0]
    recorder = UsageRecorder(flush_interval_s=30, clock=lambda: now[0])
    for _ in range(3):
        recorder.record("k1")
    recorder.record("k2")
    assert recorder.take() == {}
    now[0] = 31.0
    taken = recorder.take()
    assert {k: u.count for k, u in taken.items()} == {"k1": 3, "k2": 1}
    assert recorder.take(force=True) == {}
    recorder.record("k1")
    recorder.restore(taken)  # the write failed: the next flush carries both
    assert recorder.take(force=True)["k1"].count == 4


def test_api_keys_are_redacted_from_server_logs() -> None:
    key = generate_api_key().plaintext
    line = f'"GET /ws/meeting/abc HTTP/1.1" Sec-WebSocket-Protocol: bearer, {key}'
    assert key not in redact_tokens(line)
    assert "[redacted]" in redact_tokens(line)


# ---- the endpoints ---------------------------------------------------------------------------


def create_key(client: TestClient, account: Account, **body: object) -> dict[str, object]:
    r = client.post("/api/keys", json={"name": "ci", **body}, headers=account.headers)
    assert r.status_code == 201, r.text
    created: dict[str, object] = r.json()
    return created


def key_headers(key: object) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_key_acts_as_its_creator_on_the_rest_api(
    client: TestClient, api: Api, alice: Account
) -> None:
    created = create_key(client, alice)
    assert str(created["key"]).startswith(f"msk_{created['prefix']}_")
    headers = key_headers(created["key"])
    assert client.get("/api/auth/me", headers=headers).json()["email"] == alice.email
    r = client.post("/api/meetings", json={"title": "By key"}, headers=headers)
    assert r.status_code == 201 and r.json()["owner_id"] == alice.id


def test_listing_never_shows_the_secret_and_the_database_holds_only_its_hash(
    client: TestClient, alice: Account, db: Database
) -> None:
    created = create_key(client, alice, rate_limit=5)
    r = client.get("/api/keys", headers=alice.headers)
    assert r.status_code == 200
    [listed] = r.json()
    assert str(created["key"]) not in r.text and "key" not in listed
    assert listed["prefix"] == created["prefix"] and listed["rate_limit"] == 5
    assert set(listed) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "usage_count",
        "rate_limit",
        "revoked_at",
    }
    with db.session() as session:
        row = session.scalars(select(ApiKey)).one()
        assert row.secret_hash == hashlib.sha256(str(created["key"]).encode()).hexdigest()


def test_revoked_key_is_refused_at_once(client: TestClient, alice: Account) -> None:
    created = create_key(client, alice)
    assert client.get("/api/auth/me", headers=key_headers(created["key"])).status_code == 200
    r = client.delete(f"/api/keys/{created['id']}", headers=alice.headers)
    assert r.status_code == 204
    r = client.get("/api/auth/me", headers=key_headers(created["key"]))
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    [listed] = client.get("/api/keys", headers=alice.headers).json()
    assert listed["revoked_at"] is not None


def test_keys_are_scoped_to_their_creator(
    client: TestClient, api: Api, alice: Account, bob: Account
) -> None:
    meeting = api.create_meeting(alice)
    bobs = create_key(client, bob)
    alices = create_key(client, alice)
    r = client.get(f"/api/meetings/{meeting['id']}", headers=key_headers(bobs["key"]))
    assert r.status_code == 404
    assert client.get("/api/keys", headers=bob.headers).json()[0]["id"] == bobs["id"]
    r = client.delete(f"/api/keys/{alices['id']}", headers=bob.headers)
    assert r.status_code == 404
    assert client.get("/api/auth/me", headers=key_headers(alices["key"])).status_code == 200


def test_a_key_cannot_mint_keys_but_can_revoke_itself(client: TestClient, alice: Account) -> None:
    created = create_key(client, alice)
    headers = key_headers(created["key"])
    r = client.post("/api/keys", json={"name": "more"}, headers=headers)
    assert r.status_code == 403
    assert client.delete(f"/api/keys/{created['id']}", headers=headers).status_code == 204
    assert client.get("/api/auth/me", headers=headers).status_code == 401


def test_a_wrong_secret_with_a_real_prefix_is_refused(client: TestClient, alice: Account) -> None:
    created = create_key(client, alice)
    forged = f"msk_{created['prefix']}_{'A' * 43}"
    assert client.get("/api/auth/me", headers=key_headers(forged)).status_code == 401


def test_active_keys_per_user_are_bounded(
    client: TestClient, alice: Account, settings: Settings
) -> None:
    settings.max_api_keys_per_user = 2
    first = create_key(client, alice)
    create_key(client, alice)
    r = client.post("/api/keys", json={"name": "third"}, headers=alice.headers)
    assert r.status_code == 409
    client.delete(f"/api/keys/{first['id']}", headers=alice.headers)
    create_key(client, alice)


def test_per_key_rate_limit_answers_429_with_retry_after(
    client: TestClient, alice: Account
) -> None:
    limited = create_key(client, alice, rate_limit=2)
    other = create_key(client, alice)
    headers = key_headers(limited["key"])
    assert [client.get("/api/auth/me", headers=headers).status_code for _ in range(2)] == [200] * 2
    r = client.get("/api/auth/me", headers=headers)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert client.get("/api/auth/me", headers=key_headers(other["key"])).status_code == 200
    assert client.get("/api/auth/me", headers=alice.headers).status_code == 200  # JWT unaffected


def test_usage_is_written_in_batches_not_per_request(
    client: TestClient, alice: Account, db: Database, settings: Settings
) -> None:
    client.app.state.api_keys.usage.flush_interval_s = 3600  # type: ignore[attr-defined]
    created = create_key(client, alice)
    before = datetime.now(UTC)
    for _ in range(3):
        assert client.get("/api/auth/me", headers=key_headers(created["key"])).status_code == 200
    with db.session() as session:
        row = session.get(ApiKey, created["id"])
        assert row is not None and (row.usage_count, row.last_used_at) == (0, None)
    [listed] = client.get("/api/keys", headers=alice.headers).json()  # flushes this replica
    assert listed["usage_count"] == 3
    assert datetime.fromisoformat(listed["last_used_at"]) >= before


def test_usage_flushes_from_replicas_add_up(db: Database, alice: Account) -> None:
    from persistence.api_keys import add_api_key_usage, create_api_key

    new = generate_api_key()
    with db.session() as session:
        key_id = create_api_key(
            session, user_id=alice.id, name="k", prefix=new.prefix, secret_hash=new.secret_hash
        ).id
    late = datetime(2030, 1, 1, tzinfo=UTC)
    early = datetime(2029, 1, 1, tzinfo=UTC)
    with db.session() as session:
        add_api_key_usage(session, {key_id: KeyUsage(2, late)})
    with db.session() as session:
        add_api_key_usage(session, {key_id: KeyUsage(5, early)})
    with db.session() as session:
        row = session.get(ApiKey, key_id)
        assert row is not None and (row.usage_count, row.last_used_at) == (7, late)
