"""RoomFanout over an in-process EventLog: replay-then-live without gap or duplicate."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.sockets.fanout import RoomFanout, Subscriber
from rooms.hub import Event, EventLog
from tests.unit.rooms.conftest import Member, make_meetings


class JitteryHub:
    """An EventLog whose calls take a random few milliseconds, to shuffle interleavings."""

    def __init__(self, log: EventLog, rng: random.Random) -> None:
        self.log = log
        self.rng = rng

    async def _jitter(self) -> None:
        await asyncio.sleep(self.rng.uniform(0, 0.004))

    async def publish(self, meeting_id: str, event: Event) -> Event:
        return await self.log.publish(meeting_id, event)

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        return await self.log.publish_many(meeting_id, events)

    async def publish_ephemeral(self, meeting_id: str, event: Event) -> Event:
        return await self.log.publish_ephemeral(meeting_id, event)

    async def listen(
        self, cursors: dict[str, int], timeout_s: float = 30, ephemeral_after: int | None = None
    ) -> dict[str, Any]:
        ready = await self.log.listen(cursors, timeout_s, ephemeral_after)
        await self._jitter()
        return ready

    async def last_seq(self, meeting_id: str) -> int:
        await self._jitter()
        return await self.log.last_seq(meeting_id)

    async def replay(self, meeting_id: str, after_seq: int, limit: int = 500) -> list[Event]:
        await self._jitter()
        events = await self.log.replay(meeting_id, after_seq, limit)
        await self._jitter()
        return events


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[EventLog]:
    yield EventLog(database_url, buffer_size=8)  # small: replays also come from the database


async def drain(subscriber: Subscriber, into: list[int], delay_s: float = 0) -> None:
    while True:
        message = await subscriber.queue.get()
        into.append(int(message["seq"]))
        if delay_s:
            await asyncio.sleep(delay_s)


async def attach(
    fanout: RoomFanout, meeting_id: str, after: int | None, into: list[int], delay_s: float = 0
) -> tuple[Subscriber, list[asyncio.Task[None]]]:
    """What the WebSocket endpoint does: subscribe, start draining, then catch up."""
    subscriber = await fanout.subscribe(meeting_id, after)
    tasks = [
        asyncio.create_task(drain(subscriber, into, delay_s)),
        asyncio.create_task(fanout.catch_up(subscriber)),
    ]
    return subscriber, tasks


async def wait_until(predicate: Any, timeout_s: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
async def test_subscribers_get_replay_then_live_with_no_gap_or_duplicate(
    log: EventLog, alice: Member, seed: int
) -> None:
    rng = random.Random(seed)
    fanout = RoomFanout(JitteryHub(log, rng), queue_size=1000, poll_timeout_s=1)
    await fanout.start()
    for i in range(15):
        await log.publish(alice.meeting_id, {"type": "status", "n": i})
    received: dict[int | None, list[int]] = {}
    tasks: list[asyncio.Task[None]] = []

    async def publisher() -> None:
        for i in range(15, 60):
            await log.publish(alice.meeting_id, {"type": "status", "n": i})
            await asyncio.sleep(rng.uniform(0, 0.003))

    first_expected: dict[int | None, int] = {}

    async def joiner(after: int | None) -> None:
        await asyncio.sleep(rng.uniform(0, 0.05))
        received[after] = []
        sub, started = await attach(fanout, alice.meeting_id, after, received[after], 0.0005)
        first_expected[after] = sub.cursor + 1 if after is None else after + 1
        tasks.extend(started)

    try:
        await asyncio.gather(publisher(), *(joiner(a) for a in (0, 3, 10, 14, 15, None)))
        await wait_until(lambda: all(seqs and seqs[-1] == 60 for seqs in received.values()))
        for after, seqs in received.items():
            assert seqs == list(range(first_expected[after], 61)), f"after_seq={after}"
    finally:
        for task in tasks:
            task.cancel()
        await fanout.stop()


async def test_live_only_subscriber_starts_after_current_seq(log: EventLog, alice: Member) -> None:
    fanout = RoomFanout(log, poll_timeout_s=1)
    await fanout.start()
    for i in range(3):
        await log.publish(alice.meeting_id, {"type": "status", "n": i})
    seqs: list[int] = []
    subscriber, tasks = await attach(fanout, alice.meeting_id, None, seqs)
    try:
        assert subscriber.cursor == 3
        await log.publish(alice.meeting_id, {"type": "status"})
        await log.publish(alice.meeting_id, {"type": "status"})
        await wait_until(lambda: len(seqs) == 2)
        assert seqs == [4, 5]
    finally:
        for task in tasks:
            task.cancel()
        await fanout.stop()


async def test_replay_waits_for_a_slow_reader_without_duplicates(
    log: EventLog, alice: Member
) -> None:
    """A replay blocked on a full queue owns the cursor: live events must not jump in."""
    fanout = RoomFanout(log, queue_size=2, poll_timeout_s=1)
    await fanout.start()
    for i in range(30):
        await log.publish(alice.meeting_id, {"type": "status", "n": i})
    seqs: list[int] = []
    subscriber, tasks = await attach(fanout, alice.meeting_id, 0, seqs, delay_s=0.005)
    try:
        for i in range(10):
            await log.publish(alice.meeting_id, {"type": "status", "n": 30 + i})
            await asyncio.sleep(0.004)
        await wait_until(lambda: len(seqs) >= 40)
        await asyncio.sleep(0.1)
        assert seqs == list(range(1, 41))
        assert not subscriber.overflowed
    finally:
        for task in tasks:
            task.cancel()
        await fanout.stop()


async def test_resume_replays_from_the_given_seq_and_clamps_the_future(
    log: EventLog, alice: Member
) -> None:
    fanout = RoomFanout(log, poll_timeout_s=1)
    await fanout.start()
    for i in range(5):
        await log.publish(alice.meeting_id, {"type": "status", "n": i})
    seqs: list[int] = []
    subscriber, tasks = await attach(fanout, alice.meeting_id, None, seqs)
    try:
        await fanout.resume(subscriber, 2)
        await wait_until(lambda: len(seqs) == 3)
        assert seqs == [3, 4, 5]
        await fanout.resume(subscriber, 999)  # beyond the hub: clamped, nothing skipped
        assert subscriber.cursor == 5
        await log.publish(alice.meeting_id, {"type": "status"})
        await wait_until(lambda: len(seqs) == 4)
        assert seqs == [3, 4, 5, 6]
    finally:
        for task in tasks:
            task.cancel()
        await fanout.stop()


async def test_full_queue_marks_the_subscriber_overflowed(log: EventLog, alice: Member) -> None:
    fanout = RoomFanout(log, queue_size=2, poll_timeout_s=1)
    await fanout.start()
    subscriber = await fanout.subscribe(alice.meeting_id, None)  # nobody drains it
    try:
        for i in range(3):
            await log.publish(alice.meeting_id, {"type": "status", "n": i})
        await asyncio.wait_for(subscriber.too_slow(), 5)
        assert subscriber.queue.qsize() == 2
    finally:
        fanout.unsubscribe(subscriber)
        await fanout.stop()


async def test_one_meeting_never_sees_another(
    log: EventLog, alice: Member, database_url: str
) -> None:
    other = make_meetings(database_url, alice.user_id, 1)[0]
    fanout = RoomFanout(log, poll_timeout_s=1)
    await fanout.start()
    mine: list[int] = []
    theirs: list[int] = []
    _s1, t1 = await attach(fanout, alice.meeting_id, 0, mine)
    _s2, t2 = await attach(fanout, other, 0, theirs)
    try:
        for i in range(4):
            await log.publish(alice.meeting_id, {"type": "status", "n": i})
        await log.publish(other, {"type": "status"})
        await wait_until(lambda: len(mine) == 4 and len(theirs) == 1)
        await asyncio.sleep(0.1)
        assert (mine, theirs) == ([1, 2, 3, 4], [1])
        assert fanout.subscriber_count() == 2
        assert fanout.subscriber_count(other) == 1
    finally:
        for task in t1 + t2:
            task.cancel()
        await fanout.stop()


async def test_unsubscribe_cancels_a_blocked_catch_up(log: EventLog, alice: Member) -> None:
    fanout = RoomFanout(log, queue_size=1, poll_timeout_s=1)
    await fanout.start()
    for i in range(5):
        await log.publish(alice.meeting_id, {"type": "status", "n": i})
    subscriber = await fanout.subscribe(alice.meeting_id, None)
    await log.publish(alice.meeting_id, {"type": "status"})
    await log.publish(alice.meeting_id, {"type": "status"})
    await wait_until(lambda: subscriber.overflowed or bool(subscriber.tasks))
    fanout.unsubscribe(subscriber)
    await asyncio.sleep(0.05)
    assert subscriber.tasks == set()
    assert fanout.subscriber_count() == 0
    await fanout.stop()


async def test_live_event_defers_to_a_replay_blocked_on_queue_space(
    log: EventLog, alice: Member
) -> None:
    """The replay waits to put seq 2; a slot frees and seq 2 arrives live before the replay
    resumes. Taking the live copy would send seq 2 twice."""
    fanout = RoomFanout(log, queue_size=1)  # the poll loop is not started: offers are manual
    for i in range(3):
        await log.publish(alice.meeting_id, {"type": "status", "n": i})
    events = await log.replay(alice.meeting_id, 0)
    subscriber = await fanout.subscribe(alice.meeting_id, 0)
    catch_up = asyncio.create_task(fanout.catch_up(subscriber))
    await wait_until(lambda: subscriber.queue.full() and subscriber.cursor == 1)
    received = [int(subscriber.queue.get_nowait()["seq"])]  # wakes the blocked put
    assert subscriber.offer(events[1]) is False  # deferred: the catch-up owns the cursor
    while len(received) < 3:
        received.append(int((await asyncio.wait_for(subscriber.queue.get(), 2))["seq"]))
    await asyncio.wait_for(catch_up, 2)
    assert received == [1, 2, 3]
    assert subscriber.queue.empty()


async def test_partials_follow_the_durable_events_before_them_and_are_never_queued_late(
    log: EventLog, alice: Member
) -> None:
    fanout = RoomFanout(log, queue_size=3, poll_timeout_s=1)
    await fanout.start()
    subscriber = await fanout.subscribe(alice.meeting_id, 0)
    try:
        await log.publish(alice.meeting_id, {"type": "status", "n": 0})
        await log.publish_ephemeral(
            alice.meeting_id, {"type": "transcript_partial", "segment_id": "s", "r": 0}
        )
        await wait_until(lambda: subscriber.queue.qsize() == 2)
        first, second = subscriber.queue.get_nowait(), subscriber.queue.get_nowait()
        assert (first["seq"], second["type"]) == (1, "transcript_partial")
        assert "seq" not in second and "after_seq" not in second and "ephemeral_id" not in second
        # A full queue drops partials without marking the socket too slow.
        for i in range(3):
            await log.publish(alice.meeting_id, {"type": "status", "n": i})
        await wait_until(lambda: subscriber.queue.full())
        await log.publish_ephemeral(
            alice.meeting_id, {"type": "transcript_partial", "segment_id": "s", "r": 1}
        )
        await asyncio.sleep(0.2)
        assert not subscriber.overflowed
        assert [subscriber.queue.get_nowait()["seq"] for _ in range(3)] == [2, 3, 4]
        assert subscriber.queue.empty()
    finally:
        fanout.unsubscribe(subscriber)
        await fanout.stop()


async def test_a_partial_is_not_given_to_a_subscriber_missing_earlier_events(
    log: EventLog, alice: Member
) -> None:
    subscriber = Subscriber(alice.meeting_id, cursor=0, queue_size=10)
    await log.publish(alice.meeting_id, {"type": "status"})
    partial = await log.publish_ephemeral(
        alice.meeting_id, {"type": "transcript_partial", "segment_id": "s"}
    )
    subscriber.offer_ephemeral(partial)
    assert subscriber.queue.empty()  # it has not seen seq 1 yet: the partial would overtake it
    subscriber.cursor = 1
    subscriber.offer_ephemeral(partial)
    assert subscriber.queue.get_nowait()["segment_id"] == "s"
