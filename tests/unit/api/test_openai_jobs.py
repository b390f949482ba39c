"""Following a /v1 job's room events: in order, once each, even past a full queue."""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from pathlib import Path

from app.openai_compat.jobs import room_events
from app.sockets.fanout import RoomFanout, Subscriber
from persistence import Database, create_meeting, create_user, upgrade_database
from rooms.hub import EventLog
from rooms.publish import publish_status


def new_meeting(url: str) -> str:
    db = Database(url)
    try:
        with db.session() as session:
            user = create_user(session, email="a@example.com", name="A", password_hash="x")
            return create_meeting(session, owner_id=user.id, title="t").id
    finally:
        db.dispose()


async def test_a_consumer_behind_a_full_queue_resubscribes_without_gaps_or_repeats(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    upgrade_database(url)
    meeting = new_meeting(url)
    hub = EventLog(url)
    fanout = RoomFanout(hub, queue_size=2, poll_timeout_s=1)
    subscribed_from: list[int | None] = []
    subscribe = fanout.subscribe

    async def counting_subscribe(meeting_id: str, after_seq: int | None) -> Subscriber:
        subscribed_from.append(after_seq)
        return await subscribe(meeting_id, after_seq)

    fanout.subscribe = counting_subscribe  # type: ignore[method-assign]
    await fanout.start()
    try:
        async with aclosing(room_events(fanout, meeting)) as events:
            await publish_status(hub, meeting, "processing", "upload", "0")
            first = await asyncio.wait_for(anext(events), 5)
            assert first is not None and first["seq"] == 1
            for n in range(1, 8):  # live, faster than the consumer reads: the queue overflows
                await publish_status(hub, meeting, "processing", "upload", str(n))
            await asyncio.sleep(0.5)
            seqs = []
            while len(seqs) < 7:
                event = await asyncio.wait_for(anext(events), 5)
                if event is not None:
                    seqs.append(event["seq"])
        assert seqs == list(range(2, 9))
        assert subscribed_from[:2] == [0, 1]  # overflowed once, resumed after seq 1
        assert fanout.subscriber_count() == 0
    finally:
        await fanout.stop()
