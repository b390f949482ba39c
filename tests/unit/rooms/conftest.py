"""Fixtures for the rooms suite: a migrated SQLite database with two users and their meetings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from app.security import create_access_token
from persistence import Database, create_meeting, create_user, upgrade_database
from settings.config import Settings

JWT_SECRET = "rooms-unit-test-secret-0123456789abcdef0123"


@dataclass(frozen=True)
class Member:
    """A user, a meeting they own, and a valid access token."""

    user_id: str
    meeting_id: str
    token: str


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'rooms.db'}",
        jwt_secret=JWT_SECRET,
    )


@pytest.fixture
def database_url(settings: Settings) -> str:
    upgrade_database(settings.resolved_database_url)
    return settings.resolved_database_url


def add_member(database_url: str, settings: Settings, email: str, meetings: int = 1) -> Member:
    """A user owning ``meetings`` meetings (the first one is returned)."""
    db = Database(database_url)
    try:
        with db.session() as session:
            user = create_user(session, email=email, name=email, password_hash="unused")
            ids = [create_meeting(session, owner_id=user.id, title="t").id for _ in range(meetings)]
        return Member(user.id, ids[0], create_access_token(user.id, settings))
    finally:
        db.dispose()


@pytest.fixture
def alice(database_url: str, settings: Settings) -> Member:
    return add_member(database_url, settings, "alice@example.com")


@pytest.fixture
def bob(database_url: str, settings: Settings) -> Member:
    return add_member(database_url, settings, "bob@example.com")


def make_meetings(database_url: str, owner_id: str, count: int) -> list[str]:
    db = Database(database_url)
    try:
        with db.session() as session:
            return [create_meeting(session, owner_id=owner_id, title="t").id for _ in range(count)]
    finally:
        db.dispose()
