"""The socket access re-check's queries on SQLite and PostgreSQL (one pass for all sockets)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from app.sockets.access import (
    ACCESS_REVOKED,
    QUERY_CHUNK,
    TOKEN_REVOKED,
    AccessWatcher,
    SocketGrant,
)
from persistence import Database, create_meeting, create_user, share_meeting, upgrade_database
from persistence.accounts import remove_member
from persistence.limits import revoke_tokens


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    upgrade_database(database_url)
    db = Database(database_url)
    yield db
    db.dispose()


def make_users(db: Database, count: int) -> tuple[str, list[str], str]:
    """An owner with one meeting shared with ``count`` viewers."""
    with db.session() as session:
        owner = create_user(session, email="owner@example.com", name="o", password_hash="x")
        meeting = create_meeting(session, owner_id=owner.id, title="t")
        viewers = []
        for i in range(count):
            user = create_user(session, email=f"v{i}@example.com", name="v", password_hash="x")
            share_meeting(session, meeting.id, user.id, "viewer")
            viewers.append(user.id)
    return owner.id, viewers, meeting.id


async def test_one_pass_ends_exactly_the_revoked_grants(database: Database) -> None:
    count = QUERY_CHUNK + 20  # more sockets than one IN list holds
    owner, viewers, meeting_id = make_users(database, count)
    watcher = AccessWatcher(database, recheck_s=3600)
    later = time.time() + 3600
    watches = [watcher.watch(SocketGrant(v, meeting_id, 0, later)) for v in viewers]
    owner_watch = watcher.watch(SocketGrant(owner, meeting_id, 0, later))
    with database.session() as session:
        assert remove_member(session, meeting_id, viewers[0])
        assert not remove_member(session, meeting_id, owner)  # the owner cannot be removed
        revoke_tokens(session, viewers[-1])
    await watcher.recheck()
    assert watches[0].ended.result() == (4404, ACCESS_REVOKED)
    assert watches[-1].ended.result() == (4401, TOKEN_REVOKED)
    assert not any(w.ended.done() for w in watches[1:-1])
    assert not owner_watch.ended.done()
    for watch in [*watches, owner_watch]:
        watcher.unwatch(watch)
