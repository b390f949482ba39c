"""Engine and session factory shared by the Ingress, the hub actor and the processor.

Several processes open the same SQLite file, so every SQLite connection switches on WAL
(readers never block the writer), a busy timeout (writers queue instead of failing with
"database is locked"; on a file, in our own writer queue first: persistence/sqlite_writes.py)
and foreign keys (SQLite ignores ``ON DELETE CASCADE`` without it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from persistence.sqlite_writes import connection_class

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_file(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    return Path(database)


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


# Sync routes run on anyio's 40 worker threads and each holds a connection while it runs: a
# pool smaller than that lets waiting threads starve the ones holding connections (seen as
# 30 s pool timeouts under 200 pollers). 10 + 30 covers every thread. The Ingress sizes its
# pool from MEETING_DB_POOL_SIZE / MEETING_DB_MAX_OVERFLOW (N replicas x pool must fit the
# server's max_connections).
POOL: dict[str, int] = {"pool_size": 10, "max_overflow": 30}


def create_db_engine(
    url: str, pool: dict[str, int] | None = None, *, writer_queue: bool = True
) -> Engine:
    """An engine for ``url``; SQL parameters are never logged (they hold password hashes).
    On a SQLite file, write transactions queue across threads and processes
    (persistence/sqlite_writes.py); ``writer_queue=False`` leaves them to SQLite's busy
    handler alone (the baseline of ``python -m benchmarks sqlite-writers``)."""
    pool = pool or POOL
    if is_sqlite(url):
        path = sqlite_file(url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        connect_args = {}
        if path is not None and writer_queue:
            connect_args["factory"] = connection_class(path, SQLITE_BUSY_TIMEOUT_MS / 1000)
        engine = create_engine(url, hide_parameters=True, connect_args=connect_args, **pool)
        event.listen(engine, "connect", _configure_sqlite_connection)
        return engine
    return create_engine(url, hide_parameters=True, pool_pre_ping=True, **pool)


class Database:
    """An engine plus a session factory; one per process (or per app in tests)."""

    def __init__(
        self, url: str, pool: dict[str, int] | None = None, *, writer_queue: bool = True
    ) -> None:
        self.url = url
        self.engine = create_db_engine(url, pool, writer_queue=writer_queue)
        # Objects stay readable after commit: callers return them to other layers.
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits when the block succeeds, rolls back when it raises."""
        with self.sessionmaker() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({make_url(self.url).render_as_string(hide_password=True)!r})"
