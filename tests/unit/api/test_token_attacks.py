"""Forged, expired and orphaned tokens are refused with 401 and change nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select

from app.main import create_app
from app.security import (
    AuthenticationError,
    TokenConfigError,
    create_access_token,
    decode_access_token,
    development_secret,
)
from persistence import Database, Meeting, delete_user
from settings.config import Settings
from tests.unit.api.conftest import JWT_SECRET, Account


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_for(user_id: str, settings: Settings, **overrides: object) -> dict[str, object]:
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "sub": user_id,
        "iat": now,
        "exp": now + timedelta(hours=1),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    claims.update(overrides)
    return claims


def meeting_count(db: Database) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(Meeting)) or 0)


def assert_refused(client: TestClient, db: Database, token: str) -> None:
    """The token opens nothing: /me and a write both answer 401, and nothing is stored."""
    before = meeting_count(db)
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/auth/me", headers=headers)
    write = client.post("/api/meetings", json={"title": "intruder"}, headers=headers)
    assert (me.status_code, write.status_code) == (401, 401)
    assert me.json() == {"detail": "Invalid or expired token"}
    assert meeting_count(db) == before


def test_expired_token(
    client: TestClient, db: Database, settings: Settings, alice: Account
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_s + 1)
    token = create_access_token(alice.id, settings, now=past)
    assert_refused(client, db, token)


def test_alg_none_token(
    client: TestClient, db: Database, settings: Settings, alice: Account
) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    claims = claims_for(alice.id, settings, iat=1, exp=4_102_444_800)
    assert_refused(client, db, f"{header}.{b64(json.dumps(claims).encode())}.")


def test_tampered_signature(client: TestClient, db: Database, alice: Account) -> None:
    header, payload, signature = alice.token.split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert_refused(client, db, f"{header}.{payload}.{flipped}")


def test_tampered_payload_keeps_old_signature(
    client: TestClient, db: Database, settings: Settings, alice: Account, bob: Account
) -> None:
    header, _, signature = alice.token.split(".")
    forged = b64(json.dumps(claims_for(bob.id, settings, iat=1, exp=4_102_444_800)).encode())
    assert_refused(client, db, f"{header}.{forged}.{signature}")


def test_token_signed_with_another_secret(
    client: TestClient, db: Database, settings: Settings, alice: Account
) -> None:
    token = jwt.encode(claims_for(alice.id, settings), "another-secret-" * 4, algorithm="HS256")
    assert_refused(client, db, token)


@pytest.mark.parametrize("claim", ["aud", "iss"])
def test_wrong_audience_or_issuer(
    client: TestClient, db: Database, settings: Settings, alice: Account, claim: str
) -> None:
    token = jwt.encode(
        claims_for(alice.id, settings, **{claim: "someone-else"}), JWT_SECRET, algorithm="HS256"
    )
    assert_refused(client, db, token)


def test_token_without_expiry(
    client: TestClient, db: Database, settings: Settings, alice: Account
) -> None:
    claims = claims_for(alice.id, settings)
    del claims["exp"]
    assert_refused(client, db, jwt.encode(claims, JWT_SECRET, algorithm="HS256"))


def test_token_for_deleted_user(client: TestClient, db: Database, alice: Account) -> None:
    with db.session() as s:
        assert delete_user(s, alice.id) is True
    assert_refused(client, db, alice.token)


def test_garbage_token(client: TestClient, db: Database, alice: Account) -> None:
    assert_refused(client, db, "not.a.jwt")


def test_decode_access_token_returns_claims(settings: Settings) -> None:
    token = create_access_token("user-1", settings)
    claims = decode_access_token(token, settings)
    assert claims["sub"] == "user-1"
    assert claims["aud"] == settings.jwt_audience
    assert claims["exp"] - claims["iat"] == settings.access_token_ttl_s
    with pytest.raises(AuthenticationError, match="expired"):
        decode_access_token(
            create_access_token("user-1", settings, now=datetime(2020, 1, 1, tzinfo=UTC)),
            settings,
        )


def write_rsa_pair(directory: Path) -> tuple[Path, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = directory / "jwt.key"
    public = directory / "jwt.pub"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, public


def test_rs256_tokens_verify_with_public_key_and_refuse_hs256_confusion(tmp_path: Path) -> None:
    private, public = write_rsa_pair(tmp_path)
    settings = Settings(
        environment="production",
        data_dir=tmp_path,
        jwt_algorithm="RS256",
        jwt_private_key_file=private,
        jwt_public_key_file=public,
    )
    token = create_access_token("user-1", settings)
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert decode_access_token(token, settings)["sub"] == "user-1"
    # Classic confusion attack: HS256 "signed" with the public key as the HMAC secret.
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = claims_for("user-1", settings, iat=1, exp=4_102_444_800)
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(public.read_bytes(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{b64(mac)}"
    with pytest.raises(AuthenticationError, match="InvalidAlgorithmError"):
        decode_access_token(forged, settings)


def test_rs256_without_key_files_is_a_config_error(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, jwt_algorithm="RS256")
    with pytest.raises(TokenConfigError, match="MEETING_JWT_PRIVATE_KEY_FILE"):
        create_access_token("user-1", settings)


def test_short_hs256_secret_fails_at_start_not_at_each_login(tmp_path: Path) -> None:
    """Issue #15 item 9: a 3-byte secret used to start fine and then fail every login (500)."""
    for environment in ("development", "test", "production"):
        with pytest.raises(ValidationError, match="at least 32 bytes") as refused:
            Settings(environment=environment, data_dir=tmp_path, jwt_secret="abc")
        assert "abc" not in str(refused.value)  # the secret is not echoed into logs


@pytest.mark.parametrize(
    "weak",
    [
        "changeme" * 4,
        "ab" * 20,
        "0123456789abcdef" * 2,
        "a" * 31 + "b",
        "my-super-secret-jwt-key-for-production!",
        "aaaaaaaaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbcccccccccc",
    ],
)
def test_production_refuses_weak_secrets(tmp_path: Path, weak: str) -> None:
    with pytest.raises(ValidationError, match="MEETING_JWT_SECRET") as refused:
        Settings(environment="production", data_dir=tmp_path, jwt_secret=weak)
    assert weak not in str(refused.value)


def test_production_accepts_a_random_secret(tmp_path: Path) -> None:
    secret = secrets.token_hex(32)
    settings = Settings(environment="production", data_dir=tmp_path, jwt_secret=secret)
    assert decode_access_token(create_access_token("u", settings), settings)["sub"] == "u"


def test_app_with_missing_rs256_keys_fails_at_start(tmp_path: Path) -> None:
    settings = Settings(environment="test", data_dir=tmp_path, jwt_algorithm="RS256")
    with pytest.raises(TokenConfigError, match="MEETING_JWT_PRIVATE_KEY_FILE"):
        create_app(settings)


def test_development_secret_is_generated_once_with_mode_0600(tmp_path: Path) -> None:
    first = development_secret(tmp_path / "data")
    second = development_secret(tmp_path / "data")
    path = tmp_path / "data" / "jwt_secret"
    assert first == second
    assert len(first) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_tokens_survive_a_restart_with_the_generated_secret(tmp_path: Path) -> None:
    settings = Settings(environment="development", data_dir=tmp_path)
    token = create_access_token("user-1", settings)
    restarted = Settings(environment="development", data_dir=tmp_path)
    assert decode_access_token(token, restarted)["sub"] == "user-1"
