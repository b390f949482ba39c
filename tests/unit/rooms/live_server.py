"""A real uvicorn server in a background thread (Starlette's TestClient cancels the app when a
WebSocket closes, which hides exactly the clean-up behaviour these tests check)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvicorn
from fastapi import FastAPI

T = TypeVar("T")
START_TIMEOUT_S = 15


class LiveServer:
    """``create_app`` served on 127.0.0.1:<random port>; ``call`` runs coroutines on its loop."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.port = int(self._sock.getsockname()[1])
        # log_config=None: uvicorn leaves logging alone, so its records reach pytest's caplog.
        config = uvicorn.Config(app, log_config=None, ws="auto", lifespan="on")  # as Serve
        self._server = uvicorn.Server(config)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="live-uvicorn", daemon=True)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        self._loop.run_until_complete(self._server.serve(sockets=[self._sock]))
        self._loop.close()

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=START_TIMEOUT_S)
        self._sock.close()

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on the server's event loop (the hub's conditions live there)."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._loop))
