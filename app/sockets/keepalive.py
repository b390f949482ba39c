"""A room socket's keepalive: one timer per socket, not one per message.

The send pump used to wait for its next message under ``asyncio.wait_for(queue.get(),
keepalive_s)``: on Python 3.11 that is a task, a future and a loop timer created and thrown
away for every frame sent, on every socket. Here the pump waits on the queue alone, and one
timer per socket, re-armed only when it fires, queues a keepalive once the socket has sent
nothing for the interval.
"""

from __future__ import annotations

import asyncio

from app.sockets.fanout import Subscriber
from rooms.messages import KeepaliveMessage, wire


class KeepaliveTimer:
    """Sends ``subscriber`` a keepalive when nothing was sent for ``interval_s``; the pump
    calls ``sent`` after each frame and ``cancel`` when it ends."""

    def __init__(self, subscriber: Subscriber, interval_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._subscriber = subscriber
        self._interval_s = interval_s
        self._last_sent = self._loop.time()
        self._handle = self._loop.call_later(interval_s, self._fire)

    def sent(self) -> None:
        self._last_sent = self._loop.time()

    def cancel(self) -> None:
        self._handle.cancel()

    def _fire(self) -> None:
        now = self._loop.time()
        due = self._last_sent + self._interval_s
        if now >= due:
            if self._subscriber.queue.empty():  # else a message is about to be sent anyway
                self._subscriber.send(wire(KeepaliveMessage()))
            due = now + self._interval_s
        self._handle = self._loop.call_at(due, self._fire)
