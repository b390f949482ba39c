"""Property tests (Hypothesis) for the token parsers that face the network: JWT decoding, the
``Authorization`` header, the socket's subprotocol/query/first-message token forms."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import ValidationError
from starlette.websockets import WebSocket

from app.api.routes.ws import offered_token, redact_query_token
from app.main import create_app
from app.security import AuthenticationError, create_access_token, decode_access_token
from rooms.messages import AuthRequest
from settings.config import Settings
from tests.unit.api.conftest import JWT_SECRET

SETTINGS = Settings(environment="test", data_dir=Path("/nonexistent"), jwt_secret=JWT_SECRET)
FAST = hsettings(max_examples=150, deadline=None)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=200)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: dict[str, Any]) -> str:
    """HS256 by hand: PyJWT's encoder refuses some of the odd claims the decoder must face."""
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(JWT_SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


@FAST
@given(st.text(max_size=300))
def test_any_text_is_a_valid_token_or_an_authentication_error(text: str) -> None:
    try:
        claims = decode_access_token(text, SETTINGS)
    except AuthenticationError:
        return
    assert isinstance(claims["sub"], str)  # never reached by random text, but if it were


@FAST
@given(st.text(max_size=80), st.text(max_size=80), st.text(max_size=80))
def test_three_dotted_parts_never_crash_the_decoder(a: str, b: str, c: str) -> None:
    with pytest.raises(AuthenticationError):
        decode_access_token(f"{a}.{b}.{c}", SETTINGS)


@FAST
@given(
    sub=json_values,
    ver=json_values,
    extra=st.dictionaries(st.sampled_from(["exp", "iat", "aud", "iss", "nbf"]), json_values),
)
def test_correctly_signed_odd_claims_are_accepted_only_when_well_formed(
    sub: Any, ver: Any, extra: dict[str, Any]
) -> None:
    """Signed with the real key (so only the claim checks stand between it and a user)."""
    claims = {
        "sub": sub,
        "ver": ver,
        "exp": 4_102_444_800,
        "iat": 1,
        "iss": SETTINGS.jwt_issuer,
        "aud": SETTINGS.jwt_audience,
        **extra,
    }
    token = sign(claims)
    try:
        decoded = decode_access_token(token, SETTINGS)
    except AuthenticationError:
        return
    assert isinstance(decoded["sub"], str) and decoded["sub"]
    assert type(decoded["ver"]) is int and decoded["ver"] >= 0


@FAST
@given(header=json_values, payload=json_values, signature=st.binary(max_size=40))
def test_forged_headers_and_payloads_are_rejected(
    header: Any, payload: Any, signature: bytes
) -> None:
    token = ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(payload).encode()), b64(signature)]
    )
    with pytest.raises(AuthenticationError):
        decode_access_token(token, SETTINGS)


@FAST
@given(st.integers(min_value=0, max_value=10**6))
def test_issued_tokens_round_trip_their_version(version: int) -> None:
    token = create_access_token("user-1", SETTINGS, version=version)
    assert decode_access_token(token, SETTINGS)["ver"] == version


# ---- the socket's token forms ------------------------------------------------------------


def socket_with(subprotocols: list[str], query: bytes) -> WebSocket:
    scope = {
        "type": "websocket",
        "path": "/ws/meeting/m",
        "headers": [],
        "query_string": query,
        "subprotocols": subprotocols,
    }

    async def never() -> Any:
        raise AssertionError("not called")

    return WebSocket(scope, never, never)


@FAST
@given(st.lists(st.text(max_size=30), max_size=4), st.text(max_size=40))
def test_subprotocol_token_only_from_exactly_bearer_and_one_value(
    subprotocols: list[str], query_token: str
) -> None:
    query = urlencode({"token": query_token}).encode()
    token, accepted = offered_token(socket_with(subprotocols, query))
    if len(subprotocols) == 2 and subprotocols[0] == "bearer":
        assert (token, accepted) == (subprotocols[1], "bearer")
    else:
        assert (token, accepted) == (query_token, None)


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(["token", "last_seq", "x", "tok"]), st.text(max_size=20)),
        max_size=5,
    )
)
def test_query_token_is_always_redacted_and_nothing_else_changes(
    pairs: list[tuple[str, str]],
) -> None:
    websocket = socket_with([], urlencode(pairs).encode())
    redact_query_token(websocket)
    after = parse_qsl(websocket.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    before = parse_qsl(urlencode(pairs), keep_blank_values=True)
    expected = [(k, "redacted" if k == "token" else v) for k, v in before]
    if any(k == "token" for k, _ in before):
        assert after == expected
    else:
        assert after == before


@FAST
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200), json_values.map(json.dumps)))
def test_first_message_auth_parses_or_fails_validation(raw: bytes | str) -> None:
    try:
        request = AuthRequest.model_validate_json(raw)
    except ValidationError:
        return
    assert isinstance(request.token, str)


# ---- the Authorization header, end to end ------------------------------------------------


@pytest.fixture(scope="module")
def header_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("props")
    settings = Settings(
        environment="test",
        data_dir=tmp / "data",
        database_url=f"sqlite:///{tmp / 'props.db'}",
        jwt_secret=JWT_SECRET,
    )
    with TestClient(create_app(settings)) as client:
        yield client


@hsettings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(value=header_text, scheme=st.sampled_from(["Bearer ", "bearer ", "", "Basic ", "Bearer"]))
def test_any_authorization_header_is_401_never_500(
    header_client: TestClient, value: str, scheme: str
) -> None:
    r = header_client.get("/api/auth/me", headers={"Authorization": f"{scheme}{value}"})
    assert r.status_code == 401
    assert r.json()["detail"] in {"Not authenticated", "Invalid or expired token"}
