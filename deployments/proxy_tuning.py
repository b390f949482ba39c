"""Serve's HTTP proxy: the collector as the Ingress has it, WebSocket compression off.

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
"""

from __future__ import annotations

import os
from typing import Any

import uvicorn

from deployments.collector import freeze_startup_heap, tune_collector
from settings.flags import is_true

COMPRESSION_ENV = "MEETING_WS_COMPRESSION"


def tune_proxy() -> list[object]:
    """Freeze the start-up heap, collect the young generation every 7,000 allocations, set
    WebSocket compression; no middlewares (Serve's hook asks for a list of them)."""
    set_websocket_compression(compression_wanted())
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
