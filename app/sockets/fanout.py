"""Per-replica fan-out: one long-poll loop to the hub serves every local socket.

Each subscriber keeps a cursor (the last seq it was given). Live events are delivered only when
they are the next seq; anything else triggers a catch-up read from the hub, which has every
event durably. That one rule gives replay-then-live with no gap and no duplicate, whatever the
interleaving of replays, live events, hub restarts and reconnects. While a catch-up runs, the
live path leaves the subscriber alone (and schedules one more catch-up instead): the replay
may be waiting for queue space, and two writers racing for the same seq would duplicate it.

Ephemeral events (partial transcripts: no seq) ride the same long poll. A subscriber gets one
only when it has every durable event published before it (``after_seq``) and no catch-up is
running, and only if its queue has room: a partial is worth nothing late, and the next one
replaces it, so it is dropped rather than waited for or counted against a slow consumer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from rooms.hub import EPHEMERAL_KEYS, LISTEN_TIMEOUT_S, Event, HubClient

logger = logging.getLogger(__name__)
RETRY_DELAY_S = 0.5
# How long a catch-up that fills a gap in *live* delivery waits for queue space before the
# subscriber counts as too slow. The first replay and a client's resume wait without limit:
# the client asked for that backlog and reads it at its own pace.
LIVE_GAP_GRACE_S = 2.0


class Outgoing(dict[str, Any]):
    """A message for sockets with its JSON text, encoded once however many sockets send it
    (a live event is queued as the same object for every subscriber of the meeting)."""

    __slots__ = ("text",)

    def __init__(self, message: Mapping[str, Any]) -> None:
        super().__init__(message)
        # Starlette's send_json encoding, so the bytes on the wire are what they always were.
        self.text = json.dumps(self, separators=(",", ":"), ensure_ascii=False)


def outgoing(message: Mapping[str, Any]) -> Outgoing:
    return message if isinstance(message, Outgoing) else Outgoing(message)


class Subscriber:
    """One socket's view of a meeting: a bounded outbound queue and a cursor."""

    def __init__(self, meeting_id: str, cursor: int, queue_size: int) -> None:
        self.meeting_id = meeting_id
        self.cursor = cursor
        self.queue: asyncio.Queue[Outgoing] = asyncio.Queue(maxsize=queue_size)
        self._overflowed = False
        self.catch_up_lock = asyncio.Lock()
        self.catch_up_pending = False  # a scheduled catch-up has not taken the lock yet
        self.closed = False
        self.tasks: set[asyncio.Task[None]] = set()
        self._too_slow: asyncio.Future[None] | None = None

    @property
    def overflowed(self) -> bool:
        """The queue overflowed: this socket is too slow and gets nothing more."""
        return self._overflowed

    def too_slow(self) -> asyncio.Future[None]:
        """Resolved once the queue has overflowed, for the socket's handler to wait on beside
        its tasks (a task per socket waiting on an event costs a coroutine and a task for the
        socket's whole life); created on first use."""
        if self._too_slow is None:
            self._too_slow = asyncio.get_running_loop().create_future()
            if self._overflowed:
                self._too_slow.set_result(None)
        return self._too_slow

    def mark_overflowed(self) -> None:
        self._overflowed = True
        if self._too_slow is not None and not self._too_slow.done():
            self._too_slow.set_result(None)

    def offer(self, event: Event) -> bool:
        """Enqueue ``event`` if it is the next seq. False means a catch-up is needed: a gap, or
        a catch-up in progress (it owns the cursor until it finishes)."""
        seq = int(event["seq"])
        if seq <= self.cursor:
            return True  # already delivered (replayed, or seen by another path)
        if seq > self.cursor + 1 or self.catch_up_lock.locked():
            return False
        self.send(event)
        self.cursor = seq
        return True

    async def offer_replayed(self, event: Event, timeout_s: float | None = None) -> None:
        """Like ``offer`` but waits for queue space (replays are durable, so they backpressure);
        no space within ``timeout_s`` marks the subscriber as too slow."""
        seq = int(event["seq"])
        if seq != self.cursor + 1 or self.overflowed or self.closed:
            return
        try:
            await asyncio.wait_for(self.queue.put(outgoing(event)), timeout_s)
        except TimeoutError:
            self.mark_overflowed()
            return
        self.cursor = seq

    def offer_ephemeral(self, event: Event, prepared: Outgoing | None = None) -> None:
        """Queue a partial if it follows what this socket has and there is room; else drop it.
        ``prepared``: the client's view of ``event`` (``client_view``), encoded once."""
        if self.cursor < int(event["after_seq"]) or self.catch_up_lock.locked():
            return
        if self.overflowed or self.queue.full():
            return
        self.queue.put_nowait(prepared or client_view(event))

    def send(self, message: Mapping[str, Any]) -> None:
        """Queue a live or control message; a full queue marks the subscriber as too slow."""
        if self.overflowed:
            return
        try:
            self.queue.put_nowait(outgoing(message))
        except asyncio.QueueFull:
            self.mark_overflowed()


class RoomFanout:
    """Fans one replica's long poll out to its subscribers (see the module docstring)."""

    def __init__(
        self,
        hub: HubClient,
        queue_size: int = 1000,
        poll_timeout_s: float = LISTEN_TIMEOUT_S,
        on_replayed: Callable[[int], None] | None = None,
    ) -> None:
        self._hub = hub
        self._queue_size = queue_size
        self._poll_timeout_s = poll_timeout_s
        self._on_replayed = on_replayed or (lambda _n: None)
        self._subscribers: dict[str, set[Subscriber]] = {}
        self._cursors: dict[str, int] = {}
        self._ephemeral_cursor = 0  # the newest ephemeral_id delivered (0: take all open ones)
        self._membership_changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="room-fanout")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def last_seq(self, meeting_id: str) -> int:
        return await self._hub.last_seq(meeting_id)

    def subscriber_count(self, meeting_id: str | None = None) -> int:
        """Open subscriptions on this replica, of one meeting or of all (metrics, tests)."""
        if meeting_id is not None:
            return len(self._subscribers.get(meeting_id, ()))
        return sum(len(members) for members in self._subscribers.values())

    async def subscribe(self, meeting_id: str, after_seq: int | None) -> Subscriber:
        """Register a socket from ``after_seq`` (None: live events only).

        The caller starts draining ``subscriber.queue`` and then awaits ``catch_up``.
        """
        current = await self._hub.last_seq(meeting_id)
        cursor = current if after_seq is None else min(after_seq, current)
        subscriber = Subscriber(meeting_id, cursor, self._queue_size)
        if meeting_id not in self._subscribers:
            self._subscribers[meeting_id] = set()
            self._cursors[meeting_id] = current
            self._membership_changed.set()
        self._subscribers[meeting_id].add(subscriber)
        return subscriber

    async def resume(self, subscriber: Subscriber, after_seq: int) -> None:
        """Client asked to replay from ``after_seq`` on an open socket.

        A cursor beyond the hub's last seq is clamped: trusting it would silently skip the
        events published up to that number.
        """
        async with subscriber.catch_up_lock:
            current = await self._hub.last_seq(subscriber.meeting_id)
            subscriber.cursor = min(after_seq, current)
            await self._catch_up_locked(subscriber, None)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.closed = True
        for task in list(subscriber.tasks):
            task.cancel()  # a catch-up may wait forever for space in a queue nobody drains
        members = self._subscribers.get(subscriber.meeting_id)
        if members is None:
            return
        members.discard(subscriber)
        if not members:
            del self._subscribers[subscriber.meeting_id]
            self._cursors.pop(subscriber.meeting_id, None)
            self._membership_changed.set()

    async def catch_up(self, subscriber: Subscriber) -> None:
        """Read from the hub until the subscriber has everything published so far."""
        async with subscriber.catch_up_lock:
            await self._catch_up_locked(subscriber, None)

    async def _catch_up_locked(self, subscriber: Subscriber, put_timeout_s: float | None) -> None:
        while not subscriber.overflowed and not subscriber.closed:
            events = await self._hub.replay(subscriber.meeting_id, subscriber.cursor)
            if not events:
                return
            self._on_replayed(len(events))
            before = subscriber.cursor
            for event in events:
                await subscriber.offer_replayed(event, put_timeout_s)
            if subscriber.cursor == before:  # not contiguous: never spin on it
                logger.error(
                    "non-contiguous replay for %s after seq %d", subscriber.meeting_id, before
                )
                return

    def _schedule_catch_up(self, subscriber: Subscriber) -> None:
        """At most one waiting catch-up per subscriber: it has not read yet, so it will see
        everything the live path declined since it was scheduled."""
        if subscriber.catch_up_pending or subscriber.closed:
            return
        subscriber.catch_up_pending = True
        task = asyncio.create_task(self._scheduled_catch_up(subscriber))
        subscriber.tasks.add(task)
        task.add_done_callback(subscriber.tasks.discard)

    async def _scheduled_catch_up(self, subscriber: Subscriber) -> None:
        async with subscriber.catch_up_lock:
            subscriber.catch_up_pending = False
            while not subscriber.closed:
                try:
                    await self._catch_up_locked(subscriber, LIVE_GAP_GRACE_S)
                    return
                except Exception:  # hub restarting: the events are durable, try again
                    logger.warning("catch-up for %s failed; retrying", subscriber.meeting_id)
                    await asyncio.sleep(RETRY_DELAY_S)

    def _deliver(self, meeting_id: str, events: list[Event]) -> None:
        events = sorted(events, key=_delivery_order)
        # Encoded once here, not once per socket: the same object goes to every queue.
        prepared = [Outgoing(e) if "seq" in e else client_view(e) for e in events]
        for subscriber in list(self._subscribers.get(meeting_id, ())):
            for event, message in zip(events, prepared, strict=True):
                if "seq" not in event:
                    subscriber.offer_ephemeral(event, message)
                elif not subscriber.offer(message):
                    self._schedule_catch_up(subscriber)
                    break
        durable = [int(e["seq"]) for e in events if "seq" in e]
        if durable and meeting_id in self._cursors:
            self._cursors[meeting_id] = max(self._cursors[meeting_id], durable[-1])
        ephemeral = [int(e["ephemeral_id"]) for e in events if "ephemeral_id" in e]
        self._ephemeral_cursor = max([self._ephemeral_cursor, *ephemeral])

    async def _run(self) -> None:
        while True:
            if not self._cursors:
                await self._membership_changed.wait()
            self._membership_changed.clear()
            try:
                ready = await self._poll_until_membership_changes(dict(self._cursors))
            except asyncio.CancelledError:
                raise
            except Exception:  # hub restarting or unreachable: cursors survive, retry
                logger.warning("hub long poll failed; retrying", exc_info=True)
                await asyncio.sleep(RETRY_DELAY_S)
                continue
            for meeting_id, events in ready.items():
                self._deliver(meeting_id, events)

    async def _poll_until_membership_changes(
        self, cursors: dict[str, int]
    ) -> dict[str, list[Event]]:
        """One long poll, abandoned early when a meeting gains its first or loses its last
        socket (the poll in flight does not cover the new set of meetings)."""
        poll = asyncio.create_task(
            self._hub.listen(cursors, self._poll_timeout_s, self._ephemeral_cursor)
        )
        changed = asyncio.create_task(self._membership_changed.wait())
        try:
            done, _ = await asyncio.wait({poll, changed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            changed.cancel()
            if not poll.done():  # also when ``stop`` cancels us: never leave the poll behind
                poll.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await poll
        return poll.result() if poll in done else {}


def client_view(event: Event) -> Outgoing:
    """An ephemeral event as clients get it: without the hub's ordering fields."""
    return Outgoing({k: v for k, v in event.items() if k not in EPHEMERAL_KEYS})


def _delivery_order(event: Event) -> tuple[int, int, int]:
    """Durable events by seq; an ephemeral one right after the durable event it followed."""
    if "seq" in event:
        return (int(event["seq"]), 0, 0)
    return (int(event["after_seq"]), 1, int(event["ephemeral_id"]))
