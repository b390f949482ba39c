"""The Processor's upload-audio executor: its threads run at a lower priority than the caller's,
and nothing else in the process does."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from deployments.audio_executor import audio_executor, lower_priority


def own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice values are Linux's")
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


def test_nice_zero_leaves_the_thread_alone() -> None:
    before = own_nice()
    lower_priority(0)
    assert own_nice() == before
