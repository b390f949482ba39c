"""Refuse JWT secrets an attacker could guess: short, placeholder-like, repetitive, low entropy.

Checked when ``Settings`` is built, so a bad secret stops the process at start-up with a
message saying how to fix it, instead of every login failing later with a 500.
"""

from __future__ import annotations

import math
from collections import Counter

MIN_HMAC_SECRET_BYTES = 32
MIN_ENTROPY_BITS = 128.0  # estimated from character frequencies over the whole secret
MIN_DISTINCT_CHARS = 10
PLACEHOLDER_WORDS = ("changeme", "change-me", "secret", "password", "example", "default")
FIX = "generate one with `openssl rand -hex 32`"


def secret_too_short(secret: str) -> str | None:
    if len(secret.encode()) < MIN_HMAC_SECRET_BYTES:
        return (
            f"MEETING_JWT_SECRET must be at least {MIN_HMAC_SECRET_BYTES} bytes for HS256; {FIX}."
        )
    return None


def shortest_period(text: str) -> int:
    """The length of the shortest block that ``text`` repeats (its own length if none)."""
    for period in range(1, len(text) // 2 + 1):
        if len(text) % period == 0 and text[:period] * (len(text) // period) == text:
            return period
    return len(text)


def entropy_bits(text: str) -> float:
    """Shannon entropy of the character distribution times the length (an optimistic bound)."""
    if not text:
        return 0.0
    counts = Counter(text)
    per_char = -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())
    return per_char * len(text)


def secret_weakness(secret: str) -> str | None:
    """Why ``secret`` is too weak for production, or None."""
    short = secret_too_short(secret)
    if short:
        return short
    lowered = secret.lower()
    if any(word in lowered for word in PLACEHOLDER_WORDS):
        return f"MEETING_JWT_SECRET looks like a placeholder; {FIX}."
    if shortest_period(secret) < len(secret):
        return f"MEETING_JWT_SECRET is a repeated pattern; {FIX}."
    if len(set(secret)) < MIN_DISTINCT_CHARS or entropy_bits(secret) < MIN_ENTROPY_BITS:
        return f"MEETING_JWT_SECRET has too little entropy; {FIX}."
    return None
