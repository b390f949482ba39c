"""API keys: the key format, its hash, and the guard that checks, rate-limits and counts them.

A key reads ``msk_<prefix>_<secret>``: ``prefix`` (12 hex characters) is public and indexes
the row, ``secret`` is 256 random bits. Only SHA-256 of the whole key is stored. A slow password
hash buys nothing for a secret this long (no dictionary to try), and a fast one keeps a keyed
request as cheap as a JWT check. Comparison is constant-time, and an unknown prefix still
costs one hash and one comparison.

Usage is counted in memory and written in one batched UPDATE every
``api_key_usage_flush_s`` seconds (and when the app stops), so a busy key does not cost a
database write per request. Counts are added in SQL, so replicas never overwrite each other.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.local_ratelimit import SlidingWindowLimiter
from app.security import AuthenticationError, user_for_token
from persistence import Database, User, get_user
from persistence.api_keys import KeyUsage, add_api_key_usage, get_api_key_by_prefix
from persistence.models import utcnow
from settings.config import Settings

logger = logging.getLogger(__name__)

KEY_SCHEME = "msk"
PREFIX_HEX_CHARS = 12
SECRET_BYTES = 32
_KEY_PATTERN = re.compile(r"msk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
_DUMMY_HASH = hashlib.sha256(b"no such key").hexdigest()


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A freshly generated key: ``plaintext`` is shown to its owner once, never stored."""

    plaintext: str
    prefix: str
    secret_hash: str


def generate_api_key() -> NewApiKey:
    prefix = secrets.token_hex(PREFIX_HEX_CHARS // 2)
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewApiKey(plaintext=plaintext, prefix=prefix, secret_hash=hash_api_key(plaintext))


def hash_api_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def looks_like_api_key(token: str) -> bool:
    """True for anything in the key scheme (a JWT starts with ``eyJ``)."""
    return token.startswith(f"{KEY_SCHEME}_")


def parse_api_key(token: str) -> str:
    """The key's prefix; ``AuthenticationError`` when ``token`` is not a well-formed key."""
    match = _KEY_PATTERN.fullmatch(token)
    if match is None:
        raise AuthenticationError("malformed api key")
    return match.group(1)


class UsageRecorder:
    """Counts requests per key in memory; ``take`` hands over what is due for the database."""

    def __init__(self, flush_interval_s: float, clock: Callable[[], float] = time.monotonic):
        self.flush_interval_s = flush_interval_s
        self._clock = clock
        self._pending: dict[str, KeyUsage] = {}
        self._last_flush = clock()
        self._lock = threading.Lock()

    def record(self, key_id: str) -> None:
        now = utcnow()
        with self._lock:
            used = self._pending.get(key_id)
            self._pending[key_id] = KeyUsage((used.count if used else 0) + 1, now)

    def take(self, force: bool = False) -> dict[str, KeyUsage]:
        """The pending counts (cleared) when a flush is due or forced; else nothing."""
        with self._lock:
            due = self._clock() - self._last_flush >= self.flush_interval_s
            if not self._pending or not (due or force):
                return {}
            pending, self._pending = self._pending, {}
            self._last_flush = self._clock()
            return pending

    def restore(self, usage: dict[str, KeyUsage]) -> None:
        """Put back counts whose write failed, so the next flush retries them."""
        with self._lock:
            for key_id, used in usage.items():
                mine = self._pending.get(key_id)
                count = used.count + (mine.count if mine else 0)
                latest = max(used.last_used_at, mine.last_used_at) if mine else used.last_used_at
                self._pending[key_id] = KeyUsage(count, latest)


class ApiKeyGuard:
    """Checks a presented key, applies its rate limit and counts its use (one per process)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self._db = db
        self._default_limit = settings.api_key_rate_limit
        self._window_s = settings.api_key_rate_window_s
        self._limiters: dict[int, SlidingWindowLimiter] = {}
        self._limiters_lock = threading.Lock()
        self.usage = UsageRecorder(settings.api_key_usage_flush_s)

    def authenticate(self, session: Session, token: str) -> User:
        """The key's user; ``AuthenticationError`` (bad/revoked) or ``RateLimited``."""
        prefix = parse_api_key(token)
        row = get_api_key_by_prefix(session, prefix)
        matches = hmac.compare_digest(hash_api_key(token), row.secret_hash if row else _DUMMY_HASH)
        if row is None or not matches:
            raise AuthenticationError("unknown api key")
        if row.revoked_at is not None:
            raise AuthenticationError("revoked api key")
        user = get_user(session, row.user_id)
        if user is None:
            raise AuthenticationError("api key owner no longer exists")
        self._limiter(row.rate_limit).hit([f"apikey:{row.id}"])
        self.usage.record(row.id)
        self.flush()
        return user

    def flush(self, force: bool = False) -> None:
        """Write due usage counts in their own transaction; a failure keeps them pending."""
        usage = self.usage.take(force)
        if not usage:
            return
        try:
            with self._db.session() as session:
                add_api_key_usage(session, usage)
        except Exception:  # the database is busy or gone: keep counting, retry next time
            logger.warning("could not record api key usage; will retry", exc_info=True)
            self.usage.restore(usage)

    def _limiter(self, limit: int | None) -> SlidingWindowLimiter:
        effective = min(limit or self._default_limit, self._default_limit)
        with self._limiters_lock:
            limiter = self._limiters.get(effective)
            if limiter is None:
                limiter = SlidingWindowLimiter(effective, self._window_s)
                self._limiters[effective] = limiter
            return limiter


def user_for_credential(
    session: Session, token: str, settings: Settings, api_keys: ApiKeyGuard | None
) -> User:
    """The user a bearer credential (API key or JWT) names; the one check every entry uses."""
    if looks_like_api_key(token):
        if api_keys is None:
            raise AuthenticationError("api keys are not accepted here")
        return api_keys.authenticate(session, token)
    return user_for_token(session, token, settings)
