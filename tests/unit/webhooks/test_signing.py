"""The signature header: what a receiver computes must match, and tampering must not."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from webhooks.signing import SignatureError, new_secret, sign, verify_signature

SECRET = "whsec_0123456789abcdef"
BODY = b'{"id":"evt_1","type":"completed"}'


def test_header_is_hmac_sha256_of_timestamp_dot_body() -> None:
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    expected = hmac.new(SECRET.encode(), b"1700000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={expected}"


def test_fresh_signature_verifies_and_returns_its_timestamp() -> None:
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    assert verify_signature(SECRET, header, BODY, now=1_700_000_100) == 1_700_000_000


@pytest.mark.parametrize(
    ("secret", "body", "now", "reason"),
    [
        (SECRET, BODY + b" ", 1_700_000_000, "signature does not match"),
        ("whsec_other", BODY, 1_700_000_000, "signature does not match"),
        (SECRET, BODY, 1_700_000_301, "timestamp outside the tolerance"),
    ],
)
def test_tampered_body_wrong_secret_or_old_timestamp_fail(
    secret: str, body: bytes, now: int, reason: str
) -> None:
    header = sign(SECRET, BODY, timestamp=1_700_000_000)
    with pytest.raises(SignatureError) as e:
        verify_signature(secret, header, body, now=now)
    assert e.value.reason == reason


@pytest.mark.parametrize("header", ["", "t=1", "v1=abc", "t=x,v1=abc", "garbage"])
def test_malformed_header_is_rejected(header: str) -> None:
    with pytest.raises(SignatureError, match="malformed"):
        verify_signature(SECRET, header, BODY, now=1)


def test_replayed_timestamp_with_new_value_does_not_verify() -> None:
    mac = sign(SECRET, BODY, timestamp=1_700_000_000).split("v1=")[1]
    with pytest.raises(SignatureError):
        verify_signature(SECRET, f"t=1700000200,v1={mac}", BODY, now=1_700_000_200)


def test_secrets_are_prefixed_and_unique() -> None:
    secrets = {new_secret() for _ in range(50)}
    assert len(secrets) == 50
    assert all(s.startswith("whsec_") and len(s) == 6 + 64 for s in secrets)


def test_the_documented_verification_recipe_accepts_our_signatures() -> None:
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[3] / "docs" / "protocol.md").read_text()
    recipe = doc.split("**Verifying a delivery**", 1)[1].split("```python\n", 1)[1]
    namespace: dict[str, object] = {}
    exec(recipe.split("```", 1)[0], namespace)  # noqa: S102 - our own documentation
    verify = namespace["verify"]
    assert callable(verify)
    assert verify(SECRET, sign(SECRET, BODY), BODY) is True
    assert verify(SECRET, sign(SECRET, BODY), BODY + b"x") is False
    assert verify(SECRET, sign(SECRET, BODY, timestamp=1_000), BODY) is False
