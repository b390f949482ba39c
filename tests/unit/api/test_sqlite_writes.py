"""SQLite write transactions queue across threads and processes (persistence/sqlite_writes.py)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from persistence.session import Database
from persistence.sqlite_writes import WriterLock, is_write


@pytest.fixture
def db(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'w.db'}")
    with database.session() as session:
        session.execute(text("CREATE TABLE t (v INTEGER)"))
    return database


def test_only_statements_that_write_take_the_queue() -> None:
    assert is_write("INSERT INTO t VALUES (1)")
    assert is_write("  update t set v = 2")
    assert is_write("\nDELETE FROM t")
    assert is_write("CREATE TABLE u (v INTEGER)")
    assert not is_write("SELECT * FROM t")
    assert not is_write("PRAGMA busy_timeout = 30000")
    assert not is_write("")


def test_a_second_writer_waits_for_the_first_to_commit_and_readers_never_wait(
    db: Database,
) -> None:
    order: list[str] = []
    first_wrote, second_started = threading.Event(), threading.Event()

    def second() -> None:
        second_started.set()
        with db.session() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
            order.append("second wrote")

    with db.session() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        first_wrote.set()
        other = threading.Thread(target=second)
        other.start()
        second_started.wait()
        time.sleep(0.2)  # the second writer is queued by now
        with db.session() as reader:  # a read on a third connection does not wait
            assert reader.execute(text("SELECT count(*) FROM t")).scalar() == 0
        order.append("first commits")
    other.join(timeout=10)
    assert order == ["first commits", "second wrote"]
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_a_rolled_back_writer_hands_the_queue_on(db: Database) -> None:
    with pytest.raises(RuntimeError), db.session() as session:
        session.execute(text("INSERT INTO t VALUES (1)"))
        raise RuntimeError("the unit of work failed")
    done = threading.Event()

    def write() -> None:
        with db.session() as session:
            session.execute(text("INSERT INTO t VALUES (2)"))
        done.set()

    threading.Thread(target=write).start()
    assert done.wait(timeout=10)


def test_a_writer_in_another_process_holds_the_queue_until_it_commits(
    db: Database, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from sqlalchemy import text
        from persistence.session import Database
        db = Database(sys.argv[1])
        with db.session() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
            print("wrote", flush=True)
            while not Path(sys.argv[2]).exists():
                time.sleep(0.01)
            time.sleep(0.3)  # still holding the queue after the parent saw the file
        print("committed", flush=True)
        """
    )
    command = [sys.executable, "-c", script, db.url, str(release)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "wrote"
    release.touch()
    released_at = time.monotonic()
    with db.session() as session:
        session.execute(text("INSERT INTO t VALUES (2)"))
    assert time.monotonic() - released_at >= 0.25  # waited for the child's commit
    assert child.stdout.readline().strip() == "committed"
    assert child.wait(timeout=10) == 0
    with db.session() as session:
        assert session.execute(text("SELECT count(*) FROM t")).scalar() == 2


def test_writers_wait_in_the_queue_not_in_sqlite(db: Database, tmp_path: Path) -> None:
    other_process = WriterLock(tmp_path / "w.db", 5)  # its own fd, as another process has
    other_process.acquire()  # the queue is taken, SQLite's own lock is not
    wrote = threading.Event()

    def write() -> None:
        with db.session() as session:
            session.execute(text("INSERT INTO t VALUES (1)"))
        wrote.set()

    threading.Thread(target=write).start()
    try:
        assert not wrote.wait(timeout=0.3)
    finally:
        other_process.release()
    assert wrote.wait(timeout=10)


def test_a_queue_held_past_the_timeout_fails_like_a_locked_database(tmp_path: Path) -> None:
    holder, waiter = WriterLock(tmp_path / "x.db", 5), WriterLock(tmp_path / "x.db", 0.2)
    holder.acquire()  # another process's lock: its own file descriptor
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            waiter.acquire()
    finally:
        holder.release()
    waiter.acquire()  # free again, and the failed try left nothing held
    waiter.release()


def test_a_forked_child_queues_against_its_parent_then_writes(tmp_path: Path) -> None:
    parent, released = WriterLock(tmp_path / "x.db", 5), tmp_path / "released"
    parent.acquire()
    pid = os.fork()
    if pid == 0:  # the child: the copied lock is not its own, held or free
        os._exit(_child_after_fork(parent, released))
    try:
        time.sleep(0.5)  # the child finds the queue taken meanwhile
    finally:
        parent.release()
        released.touch()
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def _child_after_fork(lock: WriterLock, released: Path) -> int:
    lock._timeout_s = 0.2
    try:
        lock.acquire()
        return 1  # got the lock its parent holds
    except sqlite3.OperationalError:
        pass
    while not released.exists():
        time.sleep(0.01)
    lock._timeout_s = 5
    try:
        lock.acquire()  # free now: a copy of the parent's held thread lock would refuse
    except sqlite3.OperationalError:
        return 2
    lock.release()
    return 0
