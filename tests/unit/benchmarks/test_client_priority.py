"""The load clients take the Serve workers' CPU priority (benchmarks/client_priority.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.client_priority import worker_nice

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads Linux's /proc")


@pytest.fixture
def serve_worker() -> Iterator[int]:
    """A process titled like a Serve replica, at nice 7 (below Ray's 15, so it is the lowest
    even if a real cluster runs beside the tests)."""
    child = subprocess.Popen(
        ["ray::ServeReplica:app:Ingress", "30"], executable="sleep", preexec_fn=lambda: os.nice(7)
    )
    try:
        yield child.pid
    finally:
        child.kill()
        child.wait()


def test_the_workers_nice_value_is_read_from_their_processes(serve_worker: int) -> None:
    assert worker_nice() == os.getpriority(os.PRIO_PROCESS, serve_worker) == 7


def test_a_process_matches_the_workers_priority_on_every_thread(serve_worker: int) -> None:
    # in a child process: a nice value cannot be lowered again without privileges
    script = (
        "import os, threading, time\n"
        "from benchmarks.client_priority import match_cluster_priority\n"
        "started = threading.Event()\n"
        "t = threading.Thread(target=lambda: (started.set(), time.sleep(2)), daemon=True)\n"
        "t.start(); started.wait()\n"
        "nice = match_cluster_priority()\n"
        "later = threading.Thread(target=lambda: print(os.nice(0)))\n"
        "later.start(); later.join()\n"
        "print(nice, os.getpriority(os.PRIO_PROCESS, t.native_id), os.nice(0))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()
    # a thread started after the match, the value found, an older thread, the main thread
    assert out == ["7", "7", "7", "7"]


def test_no_local_worker_leaves_the_priority_alone(tmp_path: Path) -> None:
    assert worker_nice(proc=tmp_path) is None
