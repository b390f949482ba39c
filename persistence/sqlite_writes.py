"""One SQLite writer at a time, handed over promptly.

SQLite lets one transaction write at a time. A writer that finds the lock taken sleeps in
SQLite's busy handler, 1 ms at first and up to 100 ms per try, and is not woken when the lock
is freed. With many short write transactions from several processes, each with several
threads (hub shards storing events, Processors storing windows, the Ingress), writers slept
far longer than the writes took: ``python -m benchmarks sqlite-writers`` measured p99 34.6 ms
per transaction with the busy handler alone and 19.9 ms with the queue below.

So a connection that starts to write first takes this process's lock (threads queue on it and
are woken at once), then an ``flock`` on ``<database>.writer.lock`` shared by every process
(tried every 0.2-2 ms), and gives both back when its transaction commits or rolls back.
Statements that only read never wait. A writer that bypasses this (the sqlite3 shell) still
meets SQLite's own lock and busy timeout, as before.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Self

# First words of statements that write (in pysqlite's default mode the DML ones also open the
# transaction); anything else only reads, or takes SQLite's own lock as before.
WRITE_VERBS = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER"})
POLL_FIRST_S = 0.0002
POLL_MAX_S = 0.002


class WriterLock:
    """The write lock of one database file, for every connection of this process."""

    def __init__(self, path: Path, timeout_s: float) -> None:
        self._path = Path(f"{path}.writer.lock")
        self._timeout_s = timeout_s
        self._reset()

    def _reset(self) -> None:
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = os.getpid()

    def acquire(self) -> None:
        """Raises ``sqlite3.OperationalError`` after the timeout, as SQLite's busy timeout does."""
        if self._pid != os.getpid():
            # A forked child: the parent's lock state and file description are not its own
            # (a copied flock would be shared with the parent, not exclusive of it).
            self._reset()
        deadline = time.monotonic() + self._timeout_s
        if not self._threads.acquire(timeout=self._timeout_s):
            raise sqlite3.OperationalError("database is locked (writer queue)")
        try:
            self._lock_file(deadline)
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._threads.release()

    def _lock_file(self, deadline: float) -> None:
        if self._fd is None:
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        pause = POLL_FIRST_S
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise sqlite3.OperationalError("database is locked (writer queue)") from None
                time.sleep(pause)
                pause = min(pause * 2, POLL_MAX_S)


_locks: dict[Path, WriterLock] = {}
_locks_guard = threading.Lock()


def writer_lock(path: Path, timeout_s: float) -> WriterLock:
    """The one lock of this process for ``path`` (engines on the same file share it)."""
    key = path.resolve()
    with _locks_guard:
        if key not in _locks:
            _locks[key] = WriterLock(key, timeout_s)
        return _locks[key]


def is_write(sql: str) -> bool:
    words = sql.lstrip(" \t\r\n(").split(None, 1)
    return bool(words) and words[0].upper() in WRITE_VERBS


class _QueuedCursor(sqlite3.Cursor):
    connection: QueuedWriterConnection

    def execute(self, sql: str, parameters: Any = (), /) -> Self:
        if is_write(sql):
            self.connection.start_writing()
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> Self:
        if is_write(sql):
            self.connection.start_writing()
        return super().executemany(sql, seq_of_parameters)


class QueuedWriterConnection(sqlite3.Connection):
    """A pysqlite connection whose write transactions queue on ``writer``."""

    writer: WriterLock  # set on the per-file subclass made by ``connection_class``
    _writing = False

    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _QueuedCursor)

    def start_writing(self) -> None:
        if not self._writing:
            self.writer.acquire()
            self._writing = True

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self._done_writing()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self._done_writing()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._done_writing()

    def _done_writing(self) -> None:
        if self._writing:
            self._writing = False
            self.writer.release()


def connection_class(path: Path, timeout_s: float) -> type[QueuedWriterConnection]:
    """The ``sqlite3.connect(factory=...)`` class for connections to ``path``."""
    writer = writer_lock(path, timeout_s)
    return type("QueuedWriterConnection", (QueuedWriterConnection,), {"writer": writer})
