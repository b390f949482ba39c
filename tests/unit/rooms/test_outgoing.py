"""Live events are encoded once per replica, and opted-in sockets get ready messages batched."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from app.api.routes.ws import MAX_BATCH, pump
from app.sockets.fanout import Outgoing, RoomFanout, Subscriber
from rooms.hub import EventLog
from tests.unit.rooms.conftest import Member
from tests.unit.rooms.test_fanout import wait_until


class RecordingSocket:
    """The one method ``pump`` uses; a peer that stops after ``frames`` sends."""

    def __init__(self, frames: int) -> None:
        self.sent: list[str] = []
        self.frames = frames

    async def send_text(self, text: str) -> None:
        self.sent.append(text)
        if len(self.sent) >= self.frames:
            raise RuntimeError("peer gone")


def filled(count: int) -> Subscriber:
    subscriber = Subscriber("m1", 0, queue_size=1000)
    for seq in range(1, count + 1):
        subscriber.send({"type": "transcript", "seq": seq, "segment": {"text": f"é {seq}"}})
    return subscriber


def test_outgoing_text_is_what_send_json_would_send() -> None:
    message = {"type": "transcript", "seq": 1, "segment": {"text": "naïve café"}}
    assert Outgoing(message).text == json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    assert Outgoing(message) == message  # still the dict the rest of the code reads


async def test_one_live_event_is_one_object_in_every_subscribers_queue(
    database_url: str, alice: Member
) -> None:
    log = EventLog(database_url)
    fanout = RoomFanout(log, poll_timeout_s=1)
    await fanout.start()
    try:
        subscribers = [await fanout.subscribe(alice.meeting_id, None) for _ in range(3)]
        await log.publish(alice.meeting_id, {"type": "status"})
        await wait_until(lambda: all(s.queue.qsize() == 1 for s in subscribers))
        queued = [s.queue.get_nowait() for s in subscribers]
        assert all(item is queued[0] for item in queued)  # encoded once, not once per socket
        assert json.loads(queued[0].text)["seq"] == 1
    finally:
        await fanout.stop()


async def test_without_batching_every_message_is_its_own_frame() -> None:
    socket = RecordingSocket(frames=3)
    await pump(socket, filled(3), keepalive_s=5)  # type: ignore[arg-type]
    assert [json.loads(frame)["seq"] for frame in socket.sent] == [1, 2, 3]


async def test_with_batching_ready_messages_go_out_as_one_ordered_frame() -> None:
    subscriber = filled(3)
    expected = [item.text for item in list(subscriber.queue._queue)]  # type: ignore[attr-defined]
    socket = RecordingSocket(frames=1)
    await pump(socket, subscriber, keepalive_s=5, batch=True)  # type: ignore[arg-type]
    frame: dict[str, Any] = json.loads(socket.sent[0])
    assert frame["type"] == "batch" and frame["timestamp"]
    assert [
        json.dumps(m, separators=(",", ":"), ensure_ascii=False) for m in frame["messages"]
    ] == (expected)


async def test_a_batch_is_bounded_and_a_lone_message_is_sent_as_itself() -> None:
    socket = RecordingSocket(frames=2)
    await pump(socket, filled(MAX_BATCH + 1), keepalive_s=5, batch=True)  # type: ignore[arg-type]
    first, second = (json.loads(frame) for frame in socket.sent)
    assert [m["seq"] for m in first["messages"]] == list(range(1, MAX_BATCH + 1))
    assert second["type"] == "transcript" and second["seq"] == MAX_BATCH + 1


async def test_an_idle_batching_socket_still_gets_keepalives() -> None:
    socket = RecordingSocket(frames=1)
    await asyncio.wait_for(
        pump(socket, filled(0), keepalive_s=0.05, batch=True),  # type: ignore[arg-type]
        timeout=5,
    )
    assert json.loads(socket.sent[0])["type"] == "keepalive"
