"""ShardedHub: meetings routed to one of K EventLogs (the hub actors' logic), one long poll
per shard, failures of one shard isolated from the others."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.sockets.fanout import RoomFanout
from rooms.hub import Event, EventLog
from rooms.shards import ShardedHub, shard_of
from tests.unit.rooms.conftest import Member, make_meetings
from tests.unit.rooms.test_fanout import JitteryHub, attach, wait_until


class CountingShard:
    """An EventLog that counts its long polls and can be made to fail them."""

    def __init__(self, log: EventLog) -> None:
        self.log = log
        self.polls = 0
        self.cancelled = 0
        self.down = False

    async def publish(self, meeting_id: str, event: Event) -> Event:
        return await self.log.publish(meeting_id, event)

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        return await self.log.publish_many(meeting_id, events)

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        return await self.log.publish_ephemeral(meeting_id, event)

    async def listen(
        self, cursors: dict[str, int], timeout_s: float = 30, ephemeral_after: int | None = None
    ) -> dict[str, list[Event]]:
        self.polls += 1
        if self.down:
            raise ConnectionError("shard is down")
        try:
            return await self.log.listen(cursors, timeout_s, ephemeral_after)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise

    async def last_seq(self, meeting_id: str) -> int:
        return await self.log.last_seq(meeting_id)

    async def forget(self, meeting_id: str) -> None:
        await self.log.forget(meeting_id)

    async def replay(self, meeting_id: str, after_seq: int, limit: int = 500) -> list[Event]:
        return await self.log.replay(meeting_id, after_seq, limit)


@pytest.fixture
async def logs(database_url: str) -> AsyncIterator[list[EventLog]]:
    yield [EventLog(database_url, buffer_size=8) for _ in range(2)]


@pytest.fixture
def shards(logs: list[EventLog]) -> list[CountingShard]:
    return [CountingShard(log) for log in logs]


def one_per_shard(database_url: str, owner_id: str, shards: int = 2) -> list[str]:
    """Meetings ``m`` with ``shard_of(m) == i`` for each shard ``i``, in shard order."""
    found: dict[int, str] = {}
    while len(found) < shards:
        for meeting_id in make_meetings(database_url, owner_id, 8):
            found.setdefault(shard_of(meeting_id, shards), meeting_id)
    return [found[i] for i in range(shards)]


def test_shard_of_is_stable_across_processes_and_spreads_meetings() -> None:
    # Pinned: a different hash would move live rooms to other actors on upgrade.
    assert [shard_of(f"meeting-{i}", 4) for i in range(8)] == [0, 3, 2, 1, 1, 1, 2, 1]
    assert [shard_of(f"meeting-{i}", 2) for i in range(8)] == [0, 1, 0, 1, 1, 1, 0, 1]
    code = "from rooms.shards import shard_of; print(shard_of('meeting-7', 7))"
    other = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "12345", "PATH": ""},
        cwd=str(Path(__file__).resolve().parents[3]),
    )
    assert int(other.stdout) == shard_of("meeting-7", 7)
    counts = Counter(shard_of(str(uuid.UUID(int=i * 7919)), 4) for i in range(4000))
    assert sorted(counts) == [0, 1, 2, 3]
    assert all(850 < n < 1150 for n in counts.values()), counts
    assert {shard_of(str(uuid.uuid4()), 1) for _ in range(50)} == {0}
    with pytest.raises(ValueError, match="at least 1"):
        shard_of("m", 0)


async def test_each_meeting_lives_on_its_own_shard_only(
    shards: list[CountingShard], logs: list[EventLog], alice: Member, database_url: str
) -> None:
    hub = ShardedHub(shards)
    first, second = one_per_shard(database_url, alice.user_id)
    for i in range(3):
        await hub.publish(first, {"type": "status", "n": i})
    stored = await hub.publish(second, {"type": "status", "n": 0})
    assert (await hub.last_seq(first), await hub.last_seq(second)) == (3, 1)
    assert stored["seq"] == 1 and stored["meeting_id"] == second
    assert [e["n"] for e in await hub.replay(first, 1)] == [1, 2]
    assert (logs[0].open_rooms, logs[1].open_rooms) == (1, 1)  # never loaded elsewhere
    await hub.forget(second)
    assert (logs[0].open_rooms, logs[1].open_rooms) == (1, 0)


async def test_a_quiet_shard_keeps_its_poll_while_a_busy_one_delivers(
    shards: list[CountingShard], alice: Member, database_url: str
) -> None:
    hub = ShardedHub(shards)
    busy, quiet = one_per_shard(database_url, alice.user_id)
    cursors = {busy: 0, quiet: 0}
    for i in range(5):
        listening = asyncio.create_task(hub.listen(cursors, timeout_s=5))
        await asyncio.sleep(0.01)
        await hub.publish(busy, {"type": "status", "n": i})
        ready = await asyncio.wait_for(listening, 2)
        assert list(ready) == [busy]
        cursors[busy] = ready[busy][-1]["seq"]
    assert (shards[0].polls, shards[1].polls) == (5, 1)  # one poll of the quiet shard, kept
    listening = asyncio.create_task(hub.listen(cursors, timeout_s=5))
    await hub.publish(quiet, {"type": "status", "n": "late"})
    ready = await asyncio.wait_for(listening, 2)
    assert [(e["seq"], e["n"]) for e in ready[quiet]] == [(1, "late")]
    listening.cancel()


async def test_a_failing_shard_does_not_hold_up_the_others(
    shards: list[CountingShard], alice: Member, database_url: str
) -> None:
    hub = ShardedHub(shards, retry_delay_s=0.05)
    first, second = one_per_shard(database_url, alice.user_id)
    shards[1].down = True
    await hub.publish(first, {"type": "status"})
    await hub.publish(second, {"type": "status"})  # durable while its shard's poll fails
    ready = await asyncio.wait_for(hub.listen({first: 0, second: 0}, timeout_s=5), 2)
    assert [e["seq"] for e in ready[first]] == [1]
    assert second not in ready
    shards[1].down = False
    got: dict[str, list[Event]] = {}
    while second not in got:  # the caller polls again with its cursors unchanged
        got = await asyncio.wait_for(hub.listen({first: 1, second: 0}, timeout_s=5), 2)
    assert [e["seq"] for e in got[second]] == [1]


async def test_cancelled_listen_leaves_no_poll_in_any_shard(
    shards: list[CountingShard], alice: Member, database_url: str
) -> None:
    hub = ShardedHub(shards)
    first, second = one_per_shard(database_url, alice.user_id)
    listening = asyncio.create_task(hub.listen({first: 0, second: 0}, timeout_s=5))
    await asyncio.sleep(0.05)
    listening.cancel()
    with pytest.raises(asyncio.CancelledError):
        await listening
    await asyncio.sleep(0)
    assert (shards[0].cancelled, shards[1].cancelled) == (1, 1)


async def test_partials_are_ordered_per_shard_not_across_shards(
    shards: list[CountingShard], alice: Member, database_url: str
) -> None:
    """A partial from one shard may carry a smaller id than one already delivered from
    another; a global cursor would skip it."""
    hub = ShardedHub(shards)
    first, second = one_per_shard(database_url, alice.user_id)
    older = await hub.publish_ephemeral(second, {"type": "transcript_partial", "segment_id": "s"})
    newer = await hub.publish_ephemeral(first, {"type": "transcript_partial", "segment_id": "f"})
    assert older["ephemeral_id"] < newer["ephemeral_id"]
    ready = await hub.listen({first: 0}, timeout_s=1, ephemeral_after=0)
    assert [e["segment_id"] for e in ready[first]] == ["f"]
    cursor = newer["ephemeral_id"]  # what a fan-out remembers: the newest it delivered
    ready = await hub.listen({first: 0, second: 0}, timeout_s=1, ephemeral_after=cursor)
    assert [e["segment_id"] for e in ready[second]] == ["s"]
    assert first not in ready  # its partial is not handed out twice


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_fanout_over_shards_delivers_every_event_once_in_order(
    logs: list[EventLog], alice: Member, database_url: str, seed: int
) -> None:
    rng = random.Random(seed)
    hub = ShardedHub([JitteryHub(log, rng) for log in logs])
    fanout = RoomFanout(hub, poll_timeout_s=1)
    await fanout.start()
    meetings = [m for _ in range(2) for m in one_per_shard(database_url, alice.user_id)]
    received: dict[str, list[int]] = {m: [] for m in meetings}
    tasks: list[asyncio.Task[Any]] = []
    try:
        for meeting_id in meetings:
            tasks += (await attach(fanout, meeting_id, 0, received[meeting_id]))[1]

        async def publisher(meeting_id: str) -> None:
            for i in range(25):
                await hub.publish(meeting_id, {"type": "status", "n": i})
                await asyncio.sleep(rng.uniform(0, 0.003))

        await asyncio.gather(*(publisher(m) for m in meetings))
        await wait_until(lambda: all(len(seqs) >= 25 for seqs in received.values()))
        await asyncio.sleep(0.05)
        assert received == {m: list(range(1, 26)) for m in meetings}
    finally:
        for task in tasks:
            task.cancel()
        await fanout.stop()
