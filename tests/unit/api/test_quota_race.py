"""Per-user caps hold across replicas: two admissions for one owner at the same instant take
turns on the owner's row (PostgreSQL), so the second counts the first's job."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from persistence import Database, create_job, create_meeting, create_user, upgrade_database
from persistence.quotas import QuotaExceeded, check_live_slot
from settings.config import Settings
from tests.unit.api.conftest import JWT_SECRET
from tests.unit.api.pg_server import PostgresServer


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    name = postgres_server.create_database(migrated=True)
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)


def test_two_replicas_opening_live_sessions_at_once_cannot_both_pass_the_cap(
    pg_url: str, tmp_path: Path
) -> None:
    upgrade_database(pg_url)
    db = Database(pg_url)
    settings = Settings(
        environment="test",
        data_dir=tmp_path,
        database_url=pg_url,
        jwt_secret=JWT_SECRET,
        max_live_sessions_per_user=1,
    )
    with db.session() as s:
        owner = create_user(s, email="o@x.org", name="O", password_hash="h")
        first, second = (create_meeting(s, owner_id=owner.id, title=t).id for t in "ab")

    holding, release = threading.Event(), threading.Event()
    outcome: dict[str, str] = {}  # a dict: which thread records first after the commit is a race

    def open_session(meeting_id: str, hold: bool) -> None:
        try:
            with db.session() as s:
                check_live_slot(s, settings, meeting_id)
                create_job(s, meeting_id, source="live")
                if hold:  # the first replica has created its job but not committed yet
                    holding.set()
                    release.wait(10)
            outcome[meeting_id] = "opened"
        except QuotaExceeded:
            outcome[meeting_id] = "refused"

    one = threading.Thread(target=open_session, args=(first, True))
    one.start()
    assert holding.wait(10)
    two = threading.Thread(target=open_session, args=(second, False))
    two.start()
    two.join(0.5)
    assert two.is_alive(), "the second admission counted before the first committed"
    release.set()
    one.join(10)
    two.join(10)
    db.dispose()
    assert outcome == {first: "opened", second: "refused"}
