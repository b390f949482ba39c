"""Schema migrations, run programmatically (no ``alembic.ini``).

``upgrade_database`` is safe to call from several processes starting at once: on SQLite a
file lock next to the database serialises them, on PostgreSQL a transaction-scoped advisory
lock does. Whoever comes second finds the schema at head and does nothing.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from persistence.session import create_db_engine, is_sqlite, sqlite_file

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same in every process of this application.
PG_MIGRATION_LOCK_KEY = 0x6D65657453657276


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Alembic interpolates '%' in option values; escape it for URL-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "the migrations directory has no revisions"
    return head


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _sqlite_migration_lock(url: str) -> Iterator[None]:
    path = sqlite_file(url)
    if path is None:  # in-memory: one process by definition
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.migrate.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (``alembic upgrade head``); idempotent."""
    config = alembic_config(url)
    engine = create_db_engine(url)
    try:
        if is_sqlite(url):
            with _sqlite_migration_lock(url), engine.begin() as connection:
                _upgrade_on(connection, config, revision)
        else:
            with engine.begin() as connection:
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK_KEY}
                )
                _upgrade_on(connection, config, revision)
    finally:
        engine.dispose()


def _upgrade_on(connection: Connection, config: Config, revision: str) -> None:
    before = current_revision(connection)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    after = current_revision(connection)
    if before != after:
        logger.info("database schema upgraded from %s to %s", before, after)
