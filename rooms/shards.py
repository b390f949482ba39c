"""Rooms sharded by meeting id over K hubs, behind the one ``HubClient`` interface.

Every meeting belongs to exactly one shard, chosen by a stable hash of its id (the same in
every process and after every restart, unlike Python's salted ``hash``), so each meeting's
``seq``, durability before ack and replay stay the business of one ``EventLog`` and the
protocol does not change. ``ShardedHub`` is the only way callers reach a shard: publishes,
replays, ``last_seq`` and ``forget`` go to the meeting's shard; a long poll over many meetings
becomes one poll per shard involved, and returns as soon as any of them has something.

A shard's poll that is still waiting when another shard answers is kept, not cancelled, and
picked up again by the next ``listen`` with the same cursors for that shard: a busy shard does
not make the quiet ones re-poll on every event. A shard that fails (killed, restarting) is
retried after a short pause without holding up the others; its meetings' events are durable
and come on the next successful poll (the caller's cursors have not moved).

Ephemeral ids (partials) are ordered within one hub only, so the cursor a caller passes as
``ephemeral_after`` is translated into one per shard: the newest id this router has returned
from that shard, never more than what the caller asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from rooms.hub import LISTEN_TIMEOUT_S, REPLAY_PAGE, Event, HubClient

logger = logging.getLogger(__name__)
SHARD_RETRY_DELAY_S = 0.5  # a failed shard's next poll waits this long (the others do not)

PollKey = tuple[tuple[tuple[str, int], ...], int | None]


def shard_of(meeting_id: str, shards: int) -> int:
    """The shard index of ``meeting_id`` among ``shards``: stable across processes."""
    if shards < 1:
        raise ValueError(f"shards must be at least 1, got {shards}")
    digest = hashlib.blake2b(meeting_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


@dataclass
class _Poll:
    """One shard's long poll in flight, and the cursors it was asked with."""

    key: PollKey
    task: asyncio.Task[dict[str, list[Event]]]


class ShardedHub:
    """``HubClient`` that routes each meeting to its shard (see the module docstring).

    One instance per long-poll loop: the polls it keeps between ``listen`` calls belong to
    its caller's cursors.
    """

    def __init__(
        self, shards: Sequence[HubClient], retry_delay_s: float = SHARD_RETRY_DELAY_S
    ) -> None:
        if not shards:
            raise ValueError("a sharded hub needs at least one shard")
        self._shards = list(shards)
        self._retry_delay_s = retry_delay_s
        self._polls: dict[int, _Poll] = {}
        self._ephemeral_seen = [0] * len(self._shards)

    @property
    def shard_count(self) -> int:
        return len(self._shards)

    def shard_for(self, meeting_id: str) -> HubClient:
        return self._shards[shard_of(meeting_id, len(self._shards))]

    async def publish(self, meeting_id: str, event: Event) -> Event:
        return await self.shard_for(meeting_id).publish(meeting_id, event)

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        return await self.shard_for(meeting_id).publish_many(meeting_id, events)

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        return await self.shard_for(meeting_id).publish_ephemeral(meeting_id, event)

    async def last_seq(self, meeting_id: str) -> int:
        return await self.shard_for(meeting_id).last_seq(meeting_id)

    async def forget(self, meeting_id: str) -> None:
        await self.shard_for(meeting_id).forget(meeting_id)

    async def replay(
        self, meeting_id: str, after_seq: int, limit: int = REPLAY_PAGE
    ) -> list[Event]:
        return await self.shard_for(meeting_id).replay(meeting_id, after_seq, limit)

    async def listen(
        self,
        cursors: dict[str, int],
        timeout_s: float = LISTEN_TIMEOUT_S,
        ephemeral_after: int | None = None,
    ) -> dict[str, list[Event]]:
        """Events after each cursor from every shard involved; returns when any shard has
        some, or when a shard's poll times out (the caller polls again)."""
        if len(self._shards) == 1:
            return await self._shards[0].listen(cursors, timeout_s, ephemeral_after)
        polls = self._start_polls(cursors, timeout_s, ephemeral_after)
        if not polls:
            return {}
        try:
            await asyncio.wait([p.task for p in polls.values()], return_when="FIRST_COMPLETED")
        except asyncio.CancelledError:
            # The caller is gone: leave no poll parked in any shard.
            tasks = [p.task for p in self._polls.values()]
            self._cancel_polls(set(self._polls))
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return self._take_finished(polls)

    def _start_polls(
        self, cursors: dict[str, int], timeout_s: float, ephemeral_after: int | None
    ) -> dict[int, _Poll]:
        """One poll per shard with meetings in ``cursors``: the one in flight when it was
        asked with the same cursors, else a new one."""
        by_shard: dict[int, dict[str, int]] = {}
        for meeting_id, cursor in cursors.items():
            by_shard.setdefault(shard_of(meeting_id, len(self._shards)), {})[meeting_id] = cursor
        self._cancel_polls(set(self._polls) - set(by_shard))
        for index, shard_cursors in by_shard.items():
            after = self._shard_ephemeral_after(index, ephemeral_after)
            key: PollKey = (tuple(sorted(shard_cursors.items())), after)
            current = self._polls.get(index)
            if current is not None and current.key == key:
                continue
            self._cancel_polls({index})
            task = asyncio.create_task(self._poll_shard(index, shard_cursors, timeout_s, after))
            self._polls[index] = _Poll(key, task)
        return dict(self._polls)

    def _shard_ephemeral_after(self, index: int, ephemeral_after: int | None) -> int | None:
        if ephemeral_after is None:
            return None
        return min(ephemeral_after, self._ephemeral_seen[index])

    async def _poll_shard(
        self, index: int, cursors: dict[str, int], timeout_s: float, ephemeral_after: int | None
    ) -> dict[str, list[Event]]:
        try:
            return await self._shards[index].listen(cursors, timeout_s, ephemeral_after)
        except asyncio.CancelledError:
            raise
        except Exception as e:  # this shard is down or restarting; the others carry on
            logger.warning("hub shard %d long poll failed (%s); retrying", index, e)
            await asyncio.sleep(self._retry_delay_s)
            return {}

    def _take_finished(self, polls: dict[int, _Poll]) -> dict[str, list[Event]]:
        ready: dict[str, list[Event]] = {}
        for index, poll in polls.items():
            if not poll.task.done():
                continue  # still waiting: kept for the next listen
            del self._polls[index]
            result = poll.task.result()
            for events in result.values():
                ids = [int(e["ephemeral_id"]) for e in events if "ephemeral_id" in e]
                self._ephemeral_seen[index] = max([self._ephemeral_seen[index], *ids])
            ready.update(result)
        return ready

    def _cancel_polls(self, indices: set[int]) -> None:
        for index in indices:
            poll = self._polls.pop(index, None)
            if poll is not None and not poll.task.done():
                poll.task.cancel()
            elif poll is not None:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    poll.task.result()  # retrieved, so asyncio does not warn about it
