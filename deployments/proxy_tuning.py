"""Serve's HTTP proxy collects garbage as the Ingress does.

The proxy relays every room socket's frames, and like the Ingress it holds a coroutine chain
per open socket, so while hundreds of sockets connect its heap grows by hundreds of thousands
of objects and Python's default thresholds run a full collection every 70,000 allocations. It
is a plain Ray actor, so nothing froze its start-up heap either. Serve calls
``tune_proxy`` once in each proxy process when ``RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH``
names it (``deployments/run.py`` ``ingress_env`` sets it for ``make run`` and the load
benchmark; and in each direct-ingress replica, where it changes nothing the Ingress has not).
Measured in docs/benchmarks.md, "Serve's proxy collects like the Ingress".
"""

from __future__ import annotations

from deployments.collector import freeze_startup_heap, tune_collector


def tune_proxy() -> list[object]:
    """Freeze the start-up heap, collect the young generation every 7,000 allocations; no
    middlewares (Serve's hook asks for a list of them)."""
    freeze_startup_heap()
    tune_collector()
    return []
