"""Batch work at a lower CPU priority than the processes that deliver events.

Linux shares CPU between threads, not processes, and the Serve proxy, the Ingress and the hub
each relay events on one thread. Upload audio (decode + VAD) and model inference on CPU are
batch work: a window can finish a little later, a watcher's event should not wait. So their
threads run at a higher ``nice`` value (per thread on Linux; a thread inherits its creator's):
they take what the delivery processes leave, which on an idle node is everything.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

logger = logging.getLogger(__name__)


def audio_executor(threads: int, nice: int) -> ThreadPoolExecutor:
    """The Processor's threads for upload audio. Apart from the default executor, whose
    threads hand the jobs' database writes off the event loop, so those never queue behind
    audio."""
    return ThreadPoolExecutor(
        threads, "upload-audio", initializer=lower_thread_priority, initargs=(nice,)
    )


def lower_thread_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (never needs privileges); a platform
    without per-thread priorities keeps the normal one."""
    if nice > 0:
        _renice(threading.get_native_id(), nice)


def lower_process_priority(nice: int) -> int:
    """Raise by ``nice`` the nice value of every thread of this process and of its child
    processes (a model runtime's thread pools and engine processes), and so of the threads they
    start later. Returns how many threads were lowered. Call when the replica has loaded."""
    if nice <= 0:
        return 0
    pids = [os.getpid(), *_descendants(os.getpid())]
    return sum(_renice(tid, nice) for pid in pids for tid in _threads(pid))


def _descendants(root: int) -> list[int]:
    """Child processes of ``root``, recursively, from /proc (no psutil: the pyannote venv has
    none); empty where there is no /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:  # "pid (comm) state ppid ...": comm may hold spaces and parentheses
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    frontier = [root]
    while frontier:
        found.extend(kids := [k for parent in frontier for k in children.get(parent, [])])
        frontier = kids
    return found


def _threads(pid: int) -> list[int]:
    try:
        return [int(task.name) for task in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:  # not Linux, or the process just ended
        return [pid]


def _renice(tid: int, nice: int) -> bool:
    try:
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + nice))
        return True
    except (OSError, AttributeError) as e:  # the thread ended, or no priorities here
        logger.info("thread %d keeps its priority (%s)", tid, e)
        return False
