"""Password hashing (Argon2id) and access tokens (JWT), free of FastAPI.

Routes, the WebSocket endpoint and tools all come through here, so failures are domain
exceptions (``AuthenticationError``); only ``app/api`` turns them into HTTP answers.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from persistence import User, get_user
from persistence.limits import token_version
from settings.config import Settings
from settings.secret_strength import MIN_HMAC_SECRET_BYTES

logger = logging.getLogger(__name__)

DEV_SIGNING_FILE = "jwt_secret"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "iss", "aud"]

_hasher = PasswordHasher()
# Each Argon2id hash allocates its memory cost (64 MiB by default), so N logins at once would
# cost N x 64 MiB: a flood of concurrent guesses could grow an Ingress replica by gigabytes
# (the abuse run saw +305 MB from 20 addresses). Two at a time bound it; the rest wait their
# turn in the thread pool, and the login limiter refuses most guesses before they hash at all.
MAX_CONCURRENT_HASHES = 2
_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)
# Verified against when the account does not exist, so an unknown email costs the same time
# as a wrong password and login timing does not reveal which emails are registered.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class AuthenticationError(Exception):
    """A credential could not be accepted; ``reason`` is for logs, never for clients."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenConfigError(RuntimeError):
    """The JWT settings cannot produce or check tokens (missing key file, short secret)."""


# ---- passwords ---------------------------------------------------------------------------


def hash_password(password: str) -> str:
    with _hashing:
        return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when ``password`` matches; ``None`` hash (unknown user) still spends the time."""
    try:
        with _hashing:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than the current ones."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


# ---- signing keys ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SigningKeys:
    algorithm: str
    signing_key: str
    verifying_key: str


_key_cache: dict[tuple[object, ...], SigningKeys] = {}


def signing_keys(settings: Settings) -> SigningKeys:
    """The keys for ``settings``, resolved once per distinct configuration."""
    cache_key = (
        settings.jwt_algorithm,
        settings.jwt_secret,
        str(settings.data_dir),
        str(settings.jwt_private_key_file),
        str(settings.jwt_public_key_file),
    )
    keys = _key_cache.get(cache_key)
    if keys is None:
        keys = _load_keys(settings)
        _key_cache[cache_key] = keys
    return keys


def _load_keys(settings: Settings) -> SigningKeys:
    if settings.jwt_algorithm == "RS256":
        if settings.jwt_private_key_file is None or settings.jwt_public_key_file is None:
            raise TokenConfigError(
                "RS256 needs MEETING_JWT_PRIVATE_KEY_FILE and MEETING_JWT_PUBLIC_KEY_FILE "
                "(PEM files, e.g. from `openssl genpkey -algorithm RSA`)."
            )
        private = _read_key_file(settings.jwt_private_key_file)
        return SigningKeys("RS256", private, _read_key_file(settings.jwt_public_key_file))
    secret = settings.jwt_secret or development_secret(settings.data_dir)
    if len(secret.encode()) < MIN_HMAC_SECRET_BYTES:
        raise TokenConfigError(
            f"MEETING_JWT_SECRET must be at least {MIN_HMAC_SECRET_BYTES} bytes for HS256; "
            "generate one with `openssl rand -hex 32`."
        )
    return SigningKeys("HS256", secret, secret)


def _read_key_file(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as e:
        raise TokenConfigError(f"cannot read JWT key file {path}: {e.strerror}") from e


def development_secret(data_dir: Path) -> str:
    """A random secret kept in ``data_dir`` (mode 0600) so restarts keep sessions valid.

    ``O_EXCL`` makes concurrent first starts agree: one process writes, the others read.
    """
    path = data_dir / DEV_SIGNING_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        secret = path.read_text().strip()
        if secret:
            return secret
        raise TokenConfigError(f"{path} is empty; delete it to generate a new secret") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_hex(32))
    logger.warning("generated a development JWT secret in %s (set MEETING_JWT_SECRET)", path)
    return path.read_text().strip()


# ---- tokens ------------------------------------------------------------------------------


def create_access_token(
    user_id: str, settings: Settings, now: datetime | None = None, version: int = 0
) -> str:
    """A signed token for ``user_id``; ``version`` is the user's token version (logout bumps
    it, revoking every token that carries an older one)."""
    keys = signing_keys(settings)
    issued = now or datetime.now(UTC)
    claims = {
        "sub": user_id,
        "ver": version,
        "iat": issued,
        "exp": issued + timedelta(seconds=settings.access_token_ttl_s),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    return jwt.encode(claims, keys.signing_key, algorithm=keys.algorithm)


def decode_access_token(token: str, settings: Settings) -> dict[str, Any]:
    """The verified claims; raises ``AuthenticationError`` for anything but a valid token.

    The algorithm list is fixed by configuration, never taken from the token header, which
    rules out ``alg: none`` and RS256/HS256 confusion.
    """
    keys = signing_keys(settings)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            keys.verifying_key,
            algorithms=[keys.algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as e:
        raise AuthenticationError("token expired") from e
    except jwt.PyJWTError as e:
        raise AuthenticationError(f"invalid token ({type(e).__name__})") from e
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise AuthenticationError("invalid token (bad subject)")
    version = claims.get("ver", 0)  # tokens from before versions existed count as version 0
    if type(version) is not int or version < 0:
        raise AuthenticationError("invalid token (bad version)")
    claims["ver"] = version
    return claims


def user_for_token(session: Session, token: str, settings: Settings) -> User:
    """The live user a token names; a deleted account or a revoked token is rejected."""
    return user_and_claims_for_token(session, token, settings)[0]


def user_and_claims_for_token(
    session: Session, token: str, settings: Settings
) -> tuple[User, dict[str, Any]]:
    """Like ``user_for_token``, with the verified claims (sockets keep ``exp`` and ``ver``)."""
    claims = decode_access_token(token, settings)
    user = get_user(session, claims["sub"])
    if user is None:
        raise AuthenticationError("token subject no longer exists")
    if claims["ver"] != token_version(session, user.id):
        raise AuthenticationError("token revoked (logged out)")
    return user, claims
