"""The ``X-MeetingServe-Signature`` header: ``t=<unix seconds>,v1=<hex HMAC-SHA256>``.

The MAC covers ``"<t>.<raw body>"`` so a captured request cannot be replayed later with a new
timestamp; receivers reject timestamps outside a tolerance (``verify_signature``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-MeetingServe-Signature"
EVENT_ID_HEADER = "X-MeetingServe-Event-Id"
EVENT_TYPE_HEADER = "X-MeetingServe-Event"
DELIVERY_ATTEMPT_HEADER = "X-MeetingServe-Delivery-Attempt"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TOLERANCE_S = 300


class SignatureError(ValueError):
    """A signature header that is malformed, too old, or does not match the body."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_hex(32)


def compute_mac(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` sent now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={compute_mac(secret, t, body)}"


def parse_header(header: str) -> tuple[int, list[str]]:
    """``(timestamp, [v1 MACs])``; several ``v1`` entries are allowed (secret rotation)."""
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1" and value:
            macs.append(value)
    if timestamp is None or not macs:
        raise SignatureError("malformed signature header")
    return timestamp, macs


def verify_signature(
    secret: str,
    header: str,
    body: bytes,
    tolerance_s: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> int:
    """Check ``header`` against ``body``; returns its timestamp or raises ``SignatureError``."""
    timestamp, macs = parse_header(header)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise SignatureError("timestamp outside the tolerance")
    expected = compute_mac(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, mac) for mac in macs):
        raise SignatureError("signature does not match")
    return timestamp
