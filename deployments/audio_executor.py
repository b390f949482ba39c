"""The Processor's threads for upload audio (decode + VAD): few, and behind the socket path.

Linux shares CPU between threads, not processes, and the Serve proxy, the Ingress and the hub
each relay events on one thread. Upload audio is batch work: a job's next window can start a
little later, a watcher's event should not. So the audio threads run at a lower priority (a
``nice`` value, per thread on Linux): they take what the other processes leave, which on an
idle node is everything. The executor is also apart from the default one, whose threads hand
the jobs' database writes off the event loop, so those never queue behind audio.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

logger = logging.getLogger(__name__)


def audio_executor(threads: int, nice: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, "upload-audio", initializer=lower_priority, initargs=(nice,))


def lower_priority(nice: int) -> None:
    """Raise the calling thread's nice value by ``nice`` (never needs privileges); a platform
    without per-thread priorities keeps the normal one."""
    if nice <= 0:
        return
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, os.getpriority(os.PRIO_PROCESS, thread) + nice)
    except (OSError, AttributeError) as e:
        logger.info("upload audio threads keep the normal priority (%s)", e)
