"""API key rows: create, look up by prefix, list, revoke, and add batched usage.

Plain functions over a ``Session`` like the rest of ``persistence``; hashing and parsing of the key
itself live in ``app/apikeys.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from persistence.models import ApiKey, utcnow


@dataclass(frozen=True, slots=True)
class KeyUsage:
    """Requests counted in memory since the last flush, and the latest of them."""

    count: int
    last_used_at: datetime


def create_api_key(
    session: Session,
    *,
    user_id: str,
    name: str,
    prefix: str,
    secret_hash: str,
    rate_limit: int | None = None,
) -> ApiKey:
    key = ApiKey(
        user_id=user_id, name=name, prefix=prefix, secret_hash=secret_hash, rate_limit=rate_limit
    )
    session.add(key)
    session.flush()
    return key


def get_api_key_by_prefix(session: Session, prefix: str) -> ApiKey | None:
    return session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))


def list_api_keys(session: Session, user_id: str) -> list[ApiKey]:
    """The user's keys, revoked ones included (they show when they were revoked), newest first."""
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.user_id == user_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id)
        )
    )


def count_active_api_keys(session: Session, user_id: str) -> int:
    value = session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
    )
    return int(value or 0)


def revoke_api_key(session: Session, user_id: str, key_id: str) -> ApiKey | None:
    """Mark the user's key revoked (idempotent); None when the user has no such key."""
    key = session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.user_id == user_id))
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        session.flush()
    return key


def add_api_key_usage(session: Session, usage: Mapping[str, KeyUsage]) -> None:
    """Add counted requests to each key; ``last_used_at`` only ever moves forward.

    An increment in SQL, so replicas flushing their own counts at the same time add up.
    """
    for key_id, used in usage.items():
        session.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id)
            .values(usage_count=ApiKey.usage_count + used.count)
        )
        session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key_id,
                (ApiKey.last_used_at.is_(None)) | (ApiKey.last_used_at < used.last_used_at),
            )
            .values(last_used_at=used.last_used_at)
        )
    session.flush()
