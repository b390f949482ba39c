"""Rate-limit buckets and token versions in the database, shared by every Ingress replica.

A bucket row is changed only by compare-and-swap (``UPDATE ... WHERE count = :seen AND
window_start = :seen``), which is atomic on SQLite and PostgreSQL alike: two replicas that
read the same state cannot both win, the loser reads again. No dialect-specific upsert and no
row locks, so the same code runs on both backends.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from persistence.models import LimitBucket, UserSession, utcnow

CAS_ATTEMPTS = 20  # contention on one key beyond this is itself an abuse signal


@dataclass(frozen=True, slots=True)
class BucketState:
    count: int = 0
    window_start: float = 0.0
    blocked_until: float = 0.0


class BucketContended(Exception):
    """The compare-and-swap lost ``CAS_ATTEMPTS`` races in a row."""


def bucket_key(name: str) -> str:
    """The stored key: a readable kind plus a hash (emails and addresses are not stored)."""
    kind, _, value = name.partition(":")
    return f"{kind[:16]}:{hashlib.sha256(value.encode()).hexdigest()[:48]}"


def read_bucket(session: Session, key: str) -> BucketState:
    row = session.get(LimitBucket, key, populate_existing=True)
    if row is None:
        return BucketState()
    return BucketState(row.count, row.window_start, row.blocked_until)


def change_bucket(
    session: Session, key: str, change: Callable[[BucketState], BucketState | None]
) -> BucketState | None:
    """Apply ``change`` to the bucket atomically and commit; None when ``change`` declines.

    ``change`` may run more than once (after a lost race) and must be pure.
    """
    for _ in range(CAS_ATTEMPTS):
        row = session.get(LimitBucket, key, populate_existing=True)
        seen = BucketState(row.count, row.window_start, row.blocked_until) if row else None
        new = change(seen or BucketState())
        if new is None:
            session.rollback()
            return None
        if _swap(session, key, seen, new):
            session.commit()
            return new
        session.rollback()
    raise BucketContended(key)


def _swap(session: Session, key: str, seen: BucketState | None, new: BucketState) -> bool:
    if seen is None:
        session.add(LimitBucket(key=key, **_fields(new)))
        try:
            session.flush()
        except IntegrityError:  # another replica created it first
            return False
        return True
    result = session.execute(
        update(LimitBucket)
        .where(
            LimitBucket.key == key,
            LimitBucket.count == seen.count,
            LimitBucket.window_start == seen.window_start,
            LimitBucket.blocked_until == seen.blocked_until,
        )
        .values(**_fields(new))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _fields(state: BucketState) -> dict[str, float | int]:
    return {
        "count": state.count,
        "window_start": state.window_start,
        "blocked_until": state.blocked_until,
    }


def forget_bucket(session: Session, key: str) -> None:
    session.execute(delete(LimitBucket).where(LimitBucket.key == key))
    session.commit()


def forget_idle_buckets(session: Session, older_than: float) -> int:
    """Drop buckets untouched since ``older_than`` and not blocking anyone (bounded table)."""
    result = session.execute(
        delete(LimitBucket).where(
            LimitBucket.window_start < older_than, LimitBucket.blocked_until < older_than
        )
    )
    session.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


# ---- token versions ----------------------------------------------------------------------


def token_version(session: Session, user_id: str) -> int:
    """The version current tokens must carry (0 until the user first logs out)."""
    value = session.scalar(select(UserSession.token_version).where(UserSession.user_id == user_id))
    return int(value or 0)


def token_versions(session: Session, user_ids: list[str]) -> dict[str, int]:
    rows = session.execute(
        select(UserSession.user_id, UserSession.token_version).where(
            UserSession.user_id.in_(user_ids)
        )
    )
    versions = {user_id: 0 for user_id in user_ids}
    versions.update({user_id: int(version) for user_id, version in rows.tuples()})
    return versions


def revoke_tokens(session: Session, user_id: str) -> int:
    """Bump the user's token version (every token issued so far stops working); the new one."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id)
        .values(token_version=UserSession.token_version + 1, revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        session.add(UserSession(user_id=user_id, token_version=1, revoked_at=utcnow()))
        try:
            session.flush()
        except IntegrityError:  # a concurrent logout created the row: bump that one
            session.rollback()
            return revoke_tokens(session, user_id)
    return token_version(session, user_id)
