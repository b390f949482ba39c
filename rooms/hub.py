"""The hub's interface and its in-process implementation, the per-meeting event log.

``EventLog`` holds the logic of the MeetingHub actor (``deployments/hub.py`` runs it as a named,
detached Ray actor); tests and single-process setups use it directly. It assigns each meeting's
``seq``, stores every event in the database *before* acknowledging it, keeps a bounded buffer of
recent events for replays, and answers long polls the way Serve's LongPollHost does: at once
when a cursor is behind, otherwise when something is published or the timeout passes.

Every event carries an ``event_id``. A caller that retries a publish whose answer it lost (the
hub died after storing it) sends the same id, and gets the stored event back instead of a
second copy: a new incarnation seeds its buffer with each meeting's latest stored events.

Ephemeral events (``transcript_partial``) take a second path: no ``seq``, never stored. The hub
keeps only the latest one per open segment (dropped when that segment's final ``transcript`` is
published) and hands them to listeners that pass ``ephemeral_after``. Each carries
``after_seq`` (the meeting's seq when it was published) so a fan-out can deliver it after the
durable events it follows and before the ones after it, and an ``ephemeral_id`` that orders
them (wall-clock nanoseconds, so a restarted hub does not reuse ids a listener has seen).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from persistence import Database
from persistence.records import append_events, events_after, max_event_seq
from rooms.messages import utc_timestamp

logger = logging.getLogger(__name__)

Event = dict[str, Any]
LISTEN_TIMEOUT_S = 30.0
REPLAY_PAGE = 500
# A room untouched this long is dropped from memory (it reloads from the database on use);
# must stay well above LISTEN_TIMEOUT_S, which is how often a watched room is polled.
ROOM_IDLE_S = 600.0
ROOM_SWEEP_EVERY_S = 60.0
RECENT_ON_LOAD = 100  # stored events a new incarnation remembers per meeting (retry dedup)
OPEN_PARTIALS_PER_ROOM = 8  # ephemeral events kept per meeting (one per open segment)
EPHEMERAL_KEYS = ("after_seq", "ephemeral_id")  # the hub's own fields on ephemeral events


class HubClient(Protocol):
    async def publish(self, meeting_id: str, event: Event) -> Event: ...

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]: ...

    async def listen(
        self,
        cursors: dict[str, int],
        timeout_s: float = LISTEN_TIMEOUT_S,
        ephemeral_after: int | None = None,
    ) -> dict[str, list[Event]]: ...

    async def last_seq(self, meeting_id: str) -> int: ...

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event: ...

    async def forget(self, meeting_id: str) -> None: ...

    async def replay(
        self, meeting_id: str, after_seq: int, limit: int = REPLAY_PAGE
    ) -> list[Event]: ...


@dataclass
class _Room:
    seq: int
    buffer: deque[Event]
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    partials: dict[str, Event] = field(default_factory=dict)  # open segment_id → latest
    last_used: float = field(default_factory=time.monotonic)

    def idle_since(self, cutoff: float) -> bool:
        """Untouched since ``cutoff``, with nothing in flight: safe to drop and reload."""
        return self.last_used < cutoff and not self.lock.locked() and not self.partials


class EventLog:
    """Per-meeting sequenced, durable event log with long-poll listening."""

    def __init__(
        self, database_url: str, buffer_size: int = 1000, room_idle_s: float = ROOM_IDLE_S
    ) -> None:
        self._db = Database(database_url)
        self._buffer_size = buffer_size
        self._room_idle_s = room_idle_s
        self._last_sweep = time.monotonic()
        self._rooms: dict[str, _Room] = {}
        self._version = 0  # bumped on every publish; listeners wait for it to move
        self._ephemeral_id = 0
        self._changed = asyncio.Condition()

    async def publish(self, meeting_id: str, event: Event) -> Event:
        """Assign the next seq, store durably, then wake listeners. Returns the stored event;
        for an ``event_id`` already stored (a retried publish), that stored event."""
        return (await self.publish_many(meeting_id, [event]))[0]

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        """``publish`` for several events of one meeting (a window's segments): consecutive
        seqs, one transaction, one wake-up, so listeners get them together and a batching
        socket gets them in one frame. Events already stored (a retry) come back as stored."""
        room = await self._room(meeting_id)
        async with room.lock:
            stored = [_find_event(room.buffer, event.get("event_id")) for event in events]
            unstored = [e for e, s in zip(events, stored, strict=True) if s is None]
            fresh = [_sequenced(e, meeting_id, room.seq + n) for n, e in enumerate(unstored, 1)]
            if fresh:
                await asyncio.to_thread(self._store, meeting_id, fresh)
            for message in fresh:
                room.seq += 1
                room.buffer.append(message)
                _close_partials(room, message)
        if fresh:
            await self._notify()
        new = iter(fresh)
        return [s if s is not None else next(new) for s in stored]

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        """Hand a not-durable event to listeners: no seq, not stored, not replayed; only the
        latest per ``segment_id`` is kept, until that segment's final is published."""
        room = await self._room(meeting_id)
        self._ephemeral_id = max(self._ephemeral_id + 1, time.time_ns())
        message = {
            **event,
            "meeting_id": meeting_id,
            "after_seq": room.seq,
            "ephemeral_id": self._ephemeral_id,
        }
        message.setdefault("timestamp", utc_timestamp())
        key = str(event.get("segment_id", ""))
        room.partials.pop(key, None)  # re-insert: the dict stays oldest first
        room.partials[key] = message
        while len(room.partials) > OPEN_PARTIALS_PER_ROOM:
            room.partials.pop(next(iter(room.partials)))
        await self._notify()
        return message

    async def _notify(self) -> None:
        async with self._changed:
            self._version += 1
            self._changed.notify_all()

    async def listen(
        self,
        cursors: dict[str, int],
        timeout_s: float = LISTEN_TIMEOUT_S,
        ephemeral_after: int | None = None,
    ) -> dict[str, list[Event]]:
        """Events after each cursor; waits up to ``timeout_s`` when there are none yet.

        With ``ephemeral_after``, also the open partials with a larger ``ephemeral_id`` (after
        the durable events in each list).
        """
        deadline = time.monotonic() + timeout_s
        while True:
            version = self._version
            ready = await self._collect(cursors, ephemeral_after)
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready
            if not await self._wait_for_publish(version, remaining):
                return {}

    async def last_seq(self, meeting_id: str) -> int:
        return (await self._room(meeting_id)).seq

    async def _wait_for_publish(self, seen_version: int, timeout_s: float) -> bool:
        def published() -> bool:
            return self._version != seen_version

        # ``asyncio.timeout``, not ``wait_for``: on Python 3.11 ``wait_for`` swallows a cancel
        # that arrives just after a publish woke the waiter, and the listen would run on to its
        # timeout (the fan-out awaits the poll it cancels when a meeting gains a socket).
        async with self._changed:
            try:
                async with asyncio.timeout(timeout_s):
                    await self._changed.wait_for(published)
            except TimeoutError:
                return False
        return True

    async def replay(
        self, meeting_id: str, after_seq: int, limit: int = REPLAY_PAGE
    ) -> list[Event]:
        """Up to ``limit`` events with seq > ``after_seq``: from memory if buffered, else the DB."""
        room = await self._room(meeting_id)
        if after_seq >= room.seq:
            return []
        if room.buffer and room.buffer[0]["seq"] <= after_seq + 1:
            start = after_seq + 1 - room.buffer[0]["seq"]
            return list(room.buffer)[start : start + limit]
        return await asyncio.to_thread(self._load, meeting_id, after_seq, limit)

    async def forget(self, meeting_id: str) -> None:
        """Drop a deleted meeting's in-memory state."""
        self._rooms.pop(meeting_id, None)

    async def _collect(
        self, cursors: dict[str, int], ephemeral_after: int | None
    ) -> dict[str, list[Event]]:
        ready: dict[str, list[Event]] = {}
        for meeting_id, cursor in cursors.items():
            events = await self.replay(meeting_id, cursor)
            if ephemeral_after is not None:
                events += self._partials_after(meeting_id, ephemeral_after)
            if events:
                ready[meeting_id] = events
        return ready

    def _partials_after(self, meeting_id: str, ephemeral_after: int) -> list[Event]:
        room = self._rooms.get(meeting_id)
        if room is None:
            return []
        return [e for e in room.partials.values() if e["ephemeral_id"] > ephemeral_after]

    async def _room(self, meeting_id: str) -> _Room:
        room = self._rooms.get(meeting_id)
        if room is None:
            # A restarted hub (or an evicted room) continues from the database: no gap, no
            # reuse, and retried publishes still recognised from the reloaded recent events.
            seq, recent = await asyncio.to_thread(self._load_tail, meeting_id)
            room = self._rooms.setdefault(
                meeting_id, _Room(seq=seq, buffer=deque(recent, maxlen=self._buffer_size))
            )
        room.last_used = time.monotonic()
        self._evict_idle_rooms()
        return room

    def _evict_idle_rooms(self) -> None:
        """Drop rooms nobody published to, replayed or long-polled for ``room_idle_s``, so the
        hub's memory follows the meetings in use, not every meeting ever watched. A watched
        room is touched by every long poll (at least every ``LISTEN_TIMEOUT_S``)."""
        now = time.monotonic()
        if now - self._last_sweep < min(ROOM_SWEEP_EVERY_S, self._room_idle_s):
            return
        self._last_sweep = now
        cutoff = now - self._room_idle_s
        for meeting_id in [m for m, room in self._rooms.items() if room.idle_since(cutoff)]:
            del self._rooms[meeting_id]

    @property
    def open_rooms(self) -> int:
        """Rooms held in memory (tests, metrics)."""
        return len(self._rooms)

    def _store(self, meeting_id: str, messages: list[Event]) -> None:
        with self._db.session() as session:
            append_events(session, meeting_id, messages)

    def _load_tail(self, meeting_id: str) -> tuple[int, list[Event]]:
        """The meeting's last seq and its latest stored events (oldest first)."""
        with self._db.session() as session:
            seq = max_event_seq(session, meeting_id)
            keep = min(RECENT_ON_LOAD, self._buffer_size)
            return seq, events_after(session, meeting_id, max(0, seq - keep), keep)

    def _load(self, meeting_id: str, after_seq: int, limit: int) -> list[Event]:
        with self._db.session() as session:
            return events_after(session, meeting_id, after_seq, limit)


def _sequenced(event: Event, meeting_id: str, seq: int) -> Event:
    message = {**event, "seq": seq, "meeting_id": meeting_id}
    message.setdefault("timestamp", utc_timestamp())
    message.setdefault("event_id", uuid.uuid4().hex)
    return message


def _close_partials(room: _Room, message: Event) -> None:
    """A final transcript closes its segment's partial; a finished job closes them all."""
    if message.get("type") == "transcript":
        room.partials.pop(str(message.get("segment", {}).get("segment_id", "")), None)
    elif message.get("type") == "status" and message.get("status") in {"completed", "failed"}:
        room.partials.clear()


def _find_event(buffer: deque[Event], event_id: object) -> Event | None:
    """The buffered event with ``event_id``; newest first, as retries come soon after."""
    if event_id is None:
        return None
    return next((e for e in reversed(buffer) if e.get("event_id") == event_id), None)
