"""Give anyio a root task on an event loop that was started with ``run_forever``.

Starlette and FastAPI hand blocking work (``def`` routes and dependencies, ``run_in_threadpool``,
our own ``anyio.to_thread.run_sync`` calls) to threads through anyio, which binds its worker
threads to the loop's "root task". On a loop started by ``run_until_complete`` it finds that task
once and remembers it; a Ray Serve replica runs its loop with ``run_forever``, so anyio finds
none and scans every task on the loop at *each* hand-off: with 500 sockets open that is ~2,000
tasks and ~0.4 ms per call (docs/benchmarks.md). The ASGI lifespan runs in a task that lives as
long as the app, so the Ingress names it the root: the scan goes, threads still end with the app.
"""

from __future__ import annotations

import asyncio
import logging

logger = logging.getLogger(__name__)


def adopt_current_task_as_root() -> bool:
    """Make the running task anyio's root task on this loop unless it has one; True if set.

    Uses anyio's private ``_root_task`` run variable (anyio 4); a version without it keeps
    anyio's own lookup, which is only slower.
    """
    try:
        from anyio._backends._asyncio import _root_task
    except ImportError:  # pragma: no cover - a future anyio: its own lookup still works
        logger.info("anyio has no _root_task; thread hand-offs keep anyio's own lookup")
        return False
    current = _root_task.get(None)
    if current is not None and not current.done():
        return False
    _root_task.set(asyncio.current_task())
    return True
