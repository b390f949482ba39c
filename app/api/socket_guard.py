"""Run a socket's conversation only while its access lasts (``app/sockets/access.py``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from fastapi import WebSocket
from starlette.websockets import WebSocketDisconnect, WebSocketState

from app.sockets.access import AccessWatcher, SocketGrant

logger = logging.getLogger(__name__)


def remember_grant(websocket: WebSocket, grant: SocketGrant) -> None:
    websocket.state.access_grant = grant


async def run_while_permitted(websocket: WebSocket, body: Coroutine[Any, Any, None]) -> bool:
    """Await ``body``; if the socket's access ends first, cancel it and close the socket with
    the documented code. True when ``body`` finished on its own."""
    watcher: AccessWatcher | None = getattr(websocket.app.state, "access_watcher", None)
    grant: SocketGrant | None = getattr(websocket.state, "access_grant", None)
    if watcher is None or grant is None:
        await body
        return True
    watch = watcher.watch(grant)
    task = asyncio.ensure_future(body)
    finished = False
    try:
        waiters: set[asyncio.Future[Any]] = {task, watch.ended}
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finished = task in done
    finally:
        watcher.unwatch(watch)
        if not task.done():
            task.cancel()
        results = await asyncio.gather(task, return_exceptions=True)
    if finished:
        if isinstance(results[0], BaseException):
            raise results[0]
        return True
    code, reason = watch.ended.result()
    logger.info("closing socket of meeting %s: access ended (%d)", grant.meeting_id, code)
    if websocket.application_state == WebSocketState.CONNECTED:
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code, reason)
    return False
