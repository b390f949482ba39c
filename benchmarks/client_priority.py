"""The load clients' CPU priority, matched to the cluster's when both share one machine.

Ray's raylet starts every worker process (the Serve proxy, each replica, the hub actors) at
nice 15, its ``worker_niceness``, so that the raylet and GCS stay responsive. A benchmark's
clients are an ordinary process at nice 0: on a busy 2-core box Linux then gives them about 28
times the CPU weight of any server process, and every server hop of a push waits behind the
clients. Real clients run on other machines and take no server CPU at all; the fair stand-in on
one box is a client at the workers' own priority.
"""

from __future__ import annotations

import os
from pathlib import Path

# Process titles Ray gives the Serve path's workers (setproctitle)
WORKER_TITLES = (b"ray::ProxyActor", b"ray::ServeReplica")
PROC = Path("/proc")


def worker_nice(proc: Path = PROC) -> int | None:
    """The lowest nice value of this user's local Serve workers; None when none runs here (a
    remote platform, or a system without /proc)."""
    values: list[int] = []
    for entry in proc.glob("[0-9]*"):
        try:
            if entry.stat().st_uid != os.getuid():
                continue
            if entry.joinpath("cmdline").read_bytes().startswith(WORKER_TITLES):
                values.append(os.getpriority(os.PRIO_PROCESS, int(entry.name)))
        except OSError:  # the process ended while we looked
            continue
    return min(values, default=None)


def lower_own_priority(nice: int, proc: Path = PROC) -> None:
    """Every thread of this process to at least ``nice`` (Linux keeps a nice value per thread;
    raising one needs no privilege). Threads started later inherit their creator's."""
    for task in proc.joinpath("self", "task").iterdir():
        tid = int(task.name)
        try:
            if os.getpriority(os.PRIO_PROCESS, tid) < nice:
                os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError:  # the thread ended while we looked
            continue


def match_cluster_priority() -> int | None:
    """Run this process at the local Serve workers' priority; returns that nice value, or None
    (nothing changed) when no worker runs on this machine."""
    nice = worker_nice()
    if nice is not None:
        lower_own_priority(nice)
    return nice
