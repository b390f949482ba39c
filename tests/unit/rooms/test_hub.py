"""EventLog: the hub's logic (seq, durability before ack, replay, long poll) without Ray."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from persistence import Database, events_after
from rooms.hub import EventLog
from tests.unit.rooms.conftest import Member, make_meetings


@pytest.fixture
async def log(database_url: str) -> AsyncIterator[EventLog]:
    yield EventLog(database_url, buffer_size=4)


def stored_seqs(database_url: str, meeting_id: str) -> list[int]:
    db = Database(database_url)
    try:
        with db.session() as session:
            return [e["seq"] for e in events_after(session, meeting_id, 0, 1000)]
    finally:
        db.dispose()


async def publish_n(log: EventLog, meeting_id: str, n: int, tag: str = "e") -> None:
    for i in range(n):
        await log.publish(meeting_id, {"type": "status", "n": f"{tag}{i}"})


async def test_publish_assigns_consecutive_seq_per_meeting(
    log: EventLog, alice: Member, database_url: str
) -> None:
    other = make_meetings(database_url, alice.user_id, 1)[0]
    first = await log.publish(alice.meeting_id, {"type": "status", "n": 1})
    await log.publish(other, {"type": "status", "n": 1})
    second = await log.publish(alice.meeting_id, {"type": "status", "n": 2})
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["meeting_id"] == alice.meeting_id
    assert first["timestamp"].endswith("Z")
    assert await log.last_seq(alice.meeting_id) == 2
    assert await log.last_seq(other) == 1


async def test_publish_is_durable_before_it_returns(
    log: EventLog, alice: Member, database_url: str
) -> None:
    await publish_n(log, alice.meeting_id, 3)
    assert stored_seqs(database_url, alice.meeting_id) == [1, 2, 3]


async def test_concurrent_publishes_get_distinct_consecutive_seqs(
    log: EventLog, alice: Member, database_url: str
) -> None:
    events = await asyncio.gather(
        *(log.publish(alice.meeting_id, {"type": "status", "n": i}) for i in range(20))
    )
    assert sorted(e["seq"] for e in events) == list(range(1, 21))
    assert stored_seqs(database_url, alice.meeting_id) == list(range(1, 21))


async def test_a_batch_is_consecutive_durable_and_reaches_a_listener_in_one_answer(
    log: EventLog, alice: Member, database_url: str
) -> None:
    await publish_n(log, alice.meeting_id, 1)
    listener = asyncio.create_task(log.listen({alice.meeting_id: 1}, 5))
    await asyncio.sleep(0.05)
    batch = [{"type": "transcript", "n": i} for i in range(3)]
    stored = await log.publish_many(alice.meeting_id, batch)
    assert [e["seq"] for e in stored] == [2, 3, 4]
    assert stored_seqs(database_url, alice.meeting_id) == [1, 2, 3, 4]
    ready = await asyncio.wait_for(listener, 2)
    assert [e["n"] for e in ready[alice.meeting_id]] == [0, 1, 2]
    assert await log.publish_many(alice.meeting_id, []) == []


async def test_a_retried_batch_keeps_what_was_stored_and_adds_the_rest(
    log: EventLog, alice: Member, database_url: str
) -> None:
    first = await log.publish_many(alice.meeting_id, [{"type": "status", "event_id": "a"}])
    batch = [{"type": "status", "event_id": i} for i in ("a", "b", "c")]
    retried = await EventLog(database_url).publish_many(alice.meeting_id, batch)
    assert retried[0] == first[0]
    assert [(e["seq"], e["event_id"]) for e in retried] == [(1, "a"), (2, "b"), (3, "c")]
    assert stored_seqs(database_url, alice.meeting_id) == [1, 2, 3]


async def test_restarted_log_continues_seq_without_gap_or_reuse(
    log: EventLog, alice: Member, database_url: str
) -> None:
    await publish_n(log, alice.meeting_id, 3)
    restarted = EventLog(database_url, buffer_size=4)  # a new hub incarnation, same database
    assert await restarted.last_seq(alice.meeting_id) == 3
    event = await restarted.publish(alice.meeting_id, {"type": "status"})
    assert event["seq"] == 4
    assert stored_seqs(database_url, alice.meeting_id) == [1, 2, 3, 4]
    replayed = await restarted.replay(alice.meeting_id, 0)
    assert [e["seq"] for e in replayed] == [1, 2, 3, 4]
    assert [e["n"] for e in replayed[:3]] == ["e0", "e1", "e2"]


async def test_replay_from_buffer_and_from_database_agree(
    log: EventLog, alice: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    await publish_n(log, alice.meeting_id, 10)  # buffer_size=4 keeps seqs 7..10
    loads: list[int] = []
    original = log._load

    def counting_load(meeting_id: str, after_seq: int, limit: int) -> list[dict[str, object]]:
        loads.append(after_seq)
        return original(meeting_id, after_seq, limit)

    monkeypatch.setattr(log, "_load", counting_load)
    from_buffer = await log.replay(alice.meeting_id, 6)
    assert loads == []
    assert [e["seq"] for e in from_buffer] == [7, 8, 9, 10]
    from_db = await log.replay(alice.meeting_id, 2)
    assert loads == [2]
    assert [e["seq"] for e in from_db] == list(range(3, 11))
    assert [e["n"] for e in from_db] == [f"e{i}" for i in range(2, 10)]
    assert await log.replay(alice.meeting_id, 10) == []
    assert [e["seq"] for e in await log.replay(alice.meeting_id, 0, limit=3)] == [1, 2, 3]


async def test_listen_returns_at_once_when_a_cursor_is_behind(log: EventLog, alice: Member) -> None:
    await publish_n(log, alice.meeting_id, 2)
    started = time.monotonic()
    ready = await log.listen({alice.meeting_id: 1}, timeout_s=5)
    assert time.monotonic() - started < 1
    assert [e["seq"] for e in ready[alice.meeting_id]] == [2]


async def test_listen_waits_for_the_next_publish(log: EventLog, alice: Member, bob: Member) -> None:
    await publish_n(log, alice.meeting_id, 1)
    listener = asyncio.create_task(log.listen({alice.meeting_id: 1, bob.meeting_id: 0}, 5))
    await asyncio.sleep(0.1)
    assert not listener.done()
    await log.publish(bob.meeting_id, {"type": "status"})
    ready = await asyncio.wait_for(listener, 2)
    assert list(ready) == [bob.meeting_id]
    assert [e["seq"] for e in ready[bob.meeting_id]] == [1]


@pytest.mark.parametrize("turns", range(6))
async def test_a_cancelled_listen_ends_even_when_a_publish_woke_it_at_the_same_time(
    log: EventLog, alice: Member, bob: Member, turns: int
) -> None:
    # The fan-out cancels its long poll when a meeting gains its first socket, and awaits it.
    # Python 3.11's ``asyncio.wait_for`` could swallow that cancel when a publish had just
    # woken the poll: the poll then ran on to its 30 s timeout, and so did the new socket.
    listener = asyncio.create_task(log.listen({alice.meeting_id: 0}, timeout_s=30))
    await asyncio.sleep(0.1)
    await log.publish(bob.meeting_id, {"type": "status"})  # wakes it; not its meeting
    for _ in range(turns):
        await asyncio.sleep(0)
    listener.cancel()
    done, _ = await asyncio.wait({listener}, timeout=2)
    assert done == {listener} and listener.cancelled()


async def test_listen_ignores_other_meetings_and_times_out_empty(
    log: EventLog, alice: Member, bob: Member
) -> None:
    started = time.monotonic()
    listener = asyncio.create_task(log.listen({alice.meeting_id: 0}, timeout_s=0.4))
    await asyncio.sleep(0.1)
    await log.publish(bob.meeting_id, {"type": "status"})  # not a meeting it listens to
    assert await listener == {}
    assert 0.35 < time.monotonic() - started < 2


async def test_retried_publish_with_the_same_event_id_is_stored_once_even_after_restart(
    log: EventLog, alice: Member, database_url: str
) -> None:
    first = await log.publish(alice.meeting_id, {"type": "status", "event_id": "e-1"})
    assert (first["seq"], first["event_id"]) == (1, "e-1")
    assert await log.publish(alice.meeting_id, {"type": "status", "event_id": "e-1"}) == first
    # The hub died after storing e-2 but before answering; the caller retries on a new hub.
    await log.publish(alice.meeting_id, {"type": "status", "event_id": "e-2"})
    restarted = EventLog(database_url, buffer_size=4)
    retried = await restarted.publish(alice.meeting_id, {"type": "status", "event_id": "e-2"})
    assert retried["seq"] == 2
    fresh = await restarted.publish(alice.meeting_id, {"type": "status"})
    assert fresh["seq"] == 3
    assert len(fresh["event_id"]) == 32
    assert stored_seqs(database_url, alice.meeting_id) == [1, 2, 3]


async def test_partials_are_not_durable_and_a_final_closes_them(
    log: EventLog, alice: Member, database_url: str
) -> None:
    await publish_n(log, alice.meeting_id, 2)
    partial = {"type": "transcript_partial", "segment_id": "s1", "text": "so the"}
    sent = await log.publish_ephemeral(alice.meeting_id, partial)
    assert "seq" not in sent and sent["after_seq"] == 2
    newer = await log.publish_ephemeral(alice.meeting_id, {**partial, "text": "so the build"})
    assert newer["ephemeral_id"] > sent["ephemeral_id"]
    assert await log.last_seq(alice.meeting_id) == 2
    assert stored_seqs(database_url, alice.meeting_id) == [1, 2]
    ready = await log.listen({alice.meeting_id: 2}, 0.1, ephemeral_after=0)
    assert [e["text"] for e in ready[alice.meeting_id]] == ["so the build"]  # the latest only
    assert await log.listen({alice.meeting_id: 2}, 0.1) == {}  # not asked for: not returned
    assert await log.replay(alice.meeting_id, 0) == await log.replay(alice.meeting_id, 0)
    assert all("segment_id" not in e for e in await log.replay(alice.meeting_id, 0))
    await log.publish(alice.meeting_id, {"type": "transcript", "segment": {"segment_id": "s1"}})
    assert [
        e["seq"] for e in (await log.listen({alice.meeting_id: 2}, 0.1, 0))[alice.meeting_id]
    ] == [3]


async def test_a_partial_wakes_a_waiting_listener(log: EventLog, alice: Member) -> None:
    await publish_n(log, alice.meeting_id, 1)
    waiting = asyncio.create_task(log.listen({alice.meeting_id: 1}, 5, ephemeral_after=0))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await log.publish_ephemeral(alice.meeting_id, {"type": "transcript_partial", "segment_id": "a"})
    ready = await waiting
    assert time.monotonic() - started < 1
    assert ready[alice.meeting_id][0]["segment_id"] == "a"


async def test_idle_rooms_leave_memory_and_come_back_from_the_database(
    alice: Member, database_url: str
) -> None:
    log = EventLog(database_url, room_idle_s=0.05)
    other = make_meetings(database_url, alice.user_id, 1)[0]
    stored = await log.publish(alice.meeting_id, {"type": "status", "event_id": "e1"})
    await asyncio.sleep(0.1)
    await log.publish(other, {"type": "status"})  # any use sweeps what went idle
    assert log.open_rooms == 1
    # Reloaded on use: the seq continues, and a retried publish is still recognised.
    again = await log.publish(alice.meeting_id, {"type": "status", "event_id": "e1"})
    assert again == stored
    assert (await log.publish(alice.meeting_id, {"type": "status"}))["seq"] == 2
    assert stored_seqs(database_url, alice.meeting_id) == [1, 2]


async def test_a_polled_room_stays_in_memory(alice: Member, database_url: str) -> None:
    log = EventLog(database_url, room_idle_s=0.2)
    other = make_meetings(database_url, alice.user_id, 1)[0]
    await log.publish(alice.meeting_id, {"type": "status"})
    for _ in range(4):  # polled more often than the idle limit, as every fan-out loop does
        await log.listen({alice.meeting_id: 1}, timeout_s=0.1)
    await log.publish(other, {"type": "status"})
    assert log.open_rooms == 2


async def test_forget_drops_a_deleted_meetings_room(log: EventLog, alice: Member) -> None:
    await log.publish(alice.meeting_id, {"type": "status"})
    await log.forget(alice.meeting_id)
    assert log.open_rooms == 0
