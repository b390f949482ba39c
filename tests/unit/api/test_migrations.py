"""Migrations: from empty to head, idempotent, concurrent-safe, and matching the models."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from persistence import (
    Database,
    create_meeting,
    create_user,
    get_user_by_email,
    list_visible_meetings,
)
from persistence.migrate import current_revision, head_revision, upgrade_database
from persistence.models import Base
from tests.unit.api.pg_server import PostgresServer

TABLES = {
    "alembic_version",
    "users",
    "meetings",
    "memberships",
    "jobs",
    "segments",
    "room_events",
    "summaries",
    "user_sessions",  # 0002_accounts_hardening
    "limit_buckets",
    "transcript_versions",
    "api_keys",
    "webhooks",
    "webhook_deliveries",
    "meeting_speakers",
    "segment_speakers",
    "voice_profiles",
}


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'nested' / 'fresh.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database(migrated=False)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


def test_upgrade_creates_schema_and_keeps_data_on_rerun(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    db = Database(empty_database_url)
    try:
        assert set(inspect(db.engine).get_table_names()) == TABLES
        with db.session() as s:
            user = create_user(s, email="a@example.com", name="A", password_hash="h")
            create_meeting(s, owner_id=user.id, title="Kept")
        upgrade_database(empty_database_url)
        with db.session() as s:
            kept = get_user_by_email(s, "a@example.com")
            assert kept is not None
            assert [m.title for m, _ in list_visible_meetings(s, kept.id)] == ["Kept"]
        with db.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        db.dispose()


def test_models_match_migrations(empty_database_url: str) -> None:
    upgrade_database(empty_database_url)
    db = Database(empty_database_url)
    try:
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        db.dispose()


def test_concurrent_upgrades_all_succeed(empty_database_url: str) -> None:
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            upgrade_database(empty_database_url)
        except BaseException as e:  # collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db = Database(empty_database_url)
    try:
        with db.engine.connect() as connection:
            assert current_revision(connection) == head_revision()
    finally:
        db.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'w.db'}")
    try:
        with db.engine.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA foreign_keys").scalar() == 1
            assert pragma("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        db.dispose()
