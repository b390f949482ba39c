"""Serve's HTTP proxy: the collector as the Ingress has it, WebSocket compression off, its
router on its own event loop.

Serve calls ``tune_proxy`` once in each proxy process when
``RAY_SERVE_HTTP_PROXY_CALLBACK_IMPORT_PATH`` names it (``deployments/run.py`` ``ingress_env``
sets it for ``make run`` and the load benchmark; and in each direct-ingress replica, which
serves its own port the same way), before the proxy builds its uvicorn server.

- The proxy relays every room socket's frames, and like the Ingress it holds a coroutine chain
  per open socket, so while hundreds of sockets connect its heap grows by hundreds of
  thousands of objects and Python's default thresholds run a full collection every 70,000
  allocations. It is a plain Ray actor, so nothing froze its start-up heap either
  (docs/benchmarks.md, "Serve's proxy collects like the Ingress").
- uvicorn accepts permessage-deflate whenever a client offers it (browsers and the
  ``websockets`` library always do), and its zlib state cost the proxy 42 KiB of memory per
  open socket, for room events of a few hundred bytes, with no latency gained back. Serve
  exposes no option for it; the proxy's uvicorn ``Config`` default is replaced here instead,
  off unless ``MEETING_WS_COMPRESSION`` is on (docs/benchmarks.md, "WebSocket compression at
  the proxy").
- Serve routes a handle's calls on an event loop in a thread of its own, so in the proxy every
  frame a replica streams back crosses from that thread to the proxy's loop. One meeting's
  200 watchers on a 2-core Xeon: with the proxy's router on the proxy's own loop, p99 push
  latency 82.4 and 110.5 ms against 117.4-142.9 ms, and the proxy used 30 % less CPU
  (docs/benchmarks.md, "The proxy's router on the proxy's own loop"). Only the proxy
  changes: replicas keep Serve's default, and an operator's
  ``RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP`` setting wins everywhere.
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from deployments.collector import freeze_startup_heap, tune_collector
from settings.flags import is_true

COMPRESSION_ENV = "MEETING_WS_COMPRESSION"
ROUTER_LOOP_ENV = "RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP"
PROXY_ACTOR_PREFIX = "SERVE_PROXY_ACTOR"  # Serve's proxy actors are named SERVE_PROXY_ACTOR-<node>


def tune_proxy() -> list[object]:
    """Freeze the start-up heap, collect the young generation every 7,000 allocations, set
    WebSocket compression, route on the proxy's loop; no middlewares (Serve's hook asks for a
    list of them)."""
    set_websocket_compression(compression_wanted())
    if callers_loop_wanted():
        route_on_callers_loop()
    freeze_startup_heap()
    tune_collector()
    return []


def compression_wanted() -> bool:
    return is_true(os.environ.get(COMPRESSION_ENV))


def set_websocket_compression(enabled: bool) -> None:
    """Every uvicorn server this process builds from now on negotiates permessage-deflate only
    if ``enabled``. Serve builds its server with ``uvicorn.Config(...)`` looked up at call
    time, so a subclass with that default in its place is enough; a caller that passes the
    option itself still wins."""
    base: type[uvicorn.Config] = getattr(uvicorn.Config, "uvicorn_config", uvicorn.Config)

    class CompressionConfig(base):  # type: ignore[valid-type,misc]
        uvicorn_config = base  # uvicorn's own class, so a second call replaces this one

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("ws_per_message_deflate", enabled)
            super().__init__(*args, **kwargs)

    uvicorn.Config = CompressionConfig  # type: ignore[misc]


def callers_loop_wanted() -> bool:
    """In Serve's proxy, unless the operator chose where routers run."""
    return ROUTER_LOOP_ENV not in os.environ and in_serve_proxy()


def router_loops() -> str:
    """Where Serve's routers run in a cluster started with this environment (what benchmark
    results record beside Serve's switches)."""
    chosen = os.environ.get(ROUTER_LOOP_ENV)
    if chosen is None:
        return "proxy: its own loop; replicas: Serve's router thread"
    return "everywhere: Serve's router thread" if is_true(chosen) else "everywhere: caller's loop"


def in_serve_proxy() -> bool:
    """Whether this process is Serve's proxy actor (direct-ingress replicas run the hook too)."""
    import ray

    if not ray.is_initialized():
        return False
    name = ray.get_runtime_context().get_actor_name() or ""
    return name.startswith(PROXY_ACTOR_PREFIX)


def route_on_callers_loop() -> None:
    """Handles this process builds from now on route on the loop that calls them. The proxy
    builds its handles (``default_impl.get_proxy_handle``) after the hook has run, when the
    route table first arrives."""
    from ray.serve._private import default_impl

    default_impl.RAY_SERVE_RUN_ROUTER_IN_SEPARATE_LOOP = False
