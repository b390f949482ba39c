"""Batch work runs at a lower CPU priority: the Processor's upload-audio threads, and whole
model replicas (every thread and child process) once they have loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest

from deployments.cpu_priority import audio_executor, lower_process_priority, lower_thread_priority

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values")

# Run in its own interpreter: a raised nice value can never be lowered again without
# privileges, so the test process keeps its own.
REPLICA = """
import json, os, subprocess, sys, threading, time
from pathlib import Path
from deployments.cpu_priority import lower_process_priority

def nice(tid): return os.getpriority(os.PRIO_PROCESS, tid)
stop = threading.Event()
worker = threading.Thread(target=stop.wait); worker.start()
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
time.sleep(0.2)
before = nice(os.getpid())
lowered = lower_process_priority(5)
later = {}
def started_later(): later["nice"] = nice(threading.get_native_id())
t = threading.Thread(target=started_later); t.start(); t.join()
tids = [int(p.name) for p in Path("/proc/self/task").iterdir()]
print(json.dumps({"before": before, "lowered": lowered, "threads": [nice(t) for t in tids],
                  "child": nice(child.pid), "later": later["nice"]}))
child.kill(); stop.set()
"""


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
def test_audio_threads_are_niced_and_the_rest_of_the_process_is_not() -> None:
    before = own_nice()
    executor = audio_executor(2, 10)
    try:
        seen = {executor.submit(own_nice).result() for _ in range(4)}
        names = executor.submit(lambda: threading.current_thread().name).result()
    finally:
        executor.shutdown()
    assert seen == {min(19, before + 10)}
    assert names.startswith("upload-audio")
    assert own_nice() == before, "the caller's (the event loop's) priority is untouched"


def test_nice_zero_leaves_the_thread_and_process_alone() -> None:
    before = own_nice()
    lower_thread_priority(0)
    assert lower_process_priority(0) == 0
    assert own_nice() == before


@linux_only
def test_a_loaded_replica_lowers_every_thread_its_children_and_threads_started_later() -> None:
    out = subprocess.run(
        [sys.executable, "-c", REPLICA], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    seen = json.loads(out)
    want = min(19, seen["before"] + 5)
    assert seen["lowered"] >= 3  # main thread, the worker, the child's thread
    assert set(seen["threads"]) == {want}
    assert seen["child"] == want
    assert seen["later"] == want, "a thread started after loading inherits the lower priority"
