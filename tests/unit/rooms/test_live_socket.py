"""``WS /ws/meeting/{id}/audio`` bounds (issue #15, item 4) against a real uvicorn server.

The Processor is the edge here: ``RecordingBackend`` keeps what the Ingress relays, so each
test can show what reached the session and that a session is always detached or stopped.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from app.main import create_app
from processor_api.backend import LocalBackend
from processor_api.live_replies import UNKNOWN_SESSION, LiveReply, LiveSessionState
from rooms.live_messages import LiveStoppedMessage
from settings.config import Settings
from tests.unit.rooms.conftest import Member
from tests.unit.rooms.live_server import LiveServer

START = json.dumps({"type": "start", "sample_rate": 16000})


class RecordingBackend(LocalBackend):
    def __init__(self, fail_feed: bool = False) -> None:
        super().__init__()
        self.fed: list[bytes] = []
        self.detached: list[str] = []
        self.stopped: list[str] = []
        self.fail_feed = fail_feed

    async def live_open(self, meeting_id: str, session_id: str | None) -> LiveReply:
        return LiveSessionState(session_id or "s1", "j1", 0.0)

    async def live_feed(self, session_id: str, pcm: bytes) -> LiveReply:
        if self.fail_feed:
            raise RuntimeError("processor replica died\nTraceback ...")
        self.fed.append(pcm)
        return LiveSessionState(session_id, "j1", 0.0)

    async def live_detach(self, session_id: str) -> None:
        self.detached.append(session_id)

    async def live_stop(self, session_id: str) -> LiveReply:
        self.stopped.append(session_id)
        return LiveSessionState(session_id, "j1", 0.0)


@pytest.fixture
def serve(settings: Settings, database_url: str) -> Iterator[Any]:
    servers: list[LiveServer] = []

    def start(backend: LocalBackend | None = None, **overrides: Any) -> LiveServer:
        app = create_app(settings.model_copy(update=overrides), backend or RecordingBackend())
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def audio_url(server: LiveServer, member: Member) -> str:
    return f"{server.ws_url}/ws/meeting/{member.meeting_id}/audio?token={member.token}"


async def close_code(ws: ClientConnection, timeout_s: float = 10) -> int | None:
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout_s)
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else None


async def started(server: LiveServer, member: Member, start: str = START) -> ClientConnection:
    ws = await connect(audio_url(server, member))
    await ws.send(start)
    assert json.loads(await ws.recv())["type"] == "started"
    return ws


async def test_no_start_message_closes_4408(serve: Any, alice: Member) -> None:
    server = serve(ws_start_timeout_s=0.3)
    async with connect(audio_url(server, alice)) as ws:
        assert await close_code(ws) == 4408


async def test_idle_socket_closes_4408_and_session_is_detached(serve: Any, alice: Member) -> None:
    backend = RecordingBackend()
    server = serve(backend, ws_idle_timeout_s=0.3)
    ws = await started(server, alice)
    assert await close_code(ws) == 4408
    await asyncio.sleep(0.1)
    assert backend.detached == ["s1"]


@pytest.mark.parametrize("phase", ["start", "streaming"])
async def test_oversize_text_frame_closes_1009(serve: Any, alice: Member, phase: str) -> None:
    backend = RecordingBackend()
    server = serve(backend, ws_max_message_bytes=1024)
    big = json.dumps({"type": "ping", "pad": "x" * 2000})
    if phase == "start":
        async with connect(audio_url(server, alice)) as ws:
            await ws.send(big)
            assert await close_code(ws) == 1009
        return
    ws = await started(server, alice)
    await ws.send(big)
    assert await close_code(ws) == 1009
    await asyncio.sleep(0.1)
    assert backend.detached == ["s1"]


async def test_odd_length_pcm_keeps_the_odd_byte_for_the_next_frame(
    serve: Any, alice: Member
) -> None:
    backend = RecordingBackend()
    server = serve(backend)
    stream = bytes(range(256)) * 80  # 20,480 bytes sent in odd pieces
    pieces = [stream[:8001], stream[8001:8004], stream[8004:16009], stream[16009:]]
    ws = await started(server, alice)
    for piece in pieces:
        await ws.send(piece)
    await ws.send(json.dumps({"type": "stop"}))
    assert json.loads(await ws.recv())["type"] == "stopped"
    assert await close_code(ws) == 1000
    assert all(len(chunk) % 2 == 0 for chunk in backend.fed)
    assert b"".join(backend.fed) == stream  # even total: nothing lost, nothing misaligned
    assert backend.stopped == ["s1"] and backend.detached == []


async def test_48k_float_frames_reach_the_session_as_16k_pcm16(serve: Any, alice: Member) -> None:
    """A browser's native capture: 2 s of a 440 Hz tone at 48 kHz float32, in frames that split
    samples; the session gets 2 s of 16 kHz PCM16 (the resampler's tail flushed at stop)."""
    backend = RecordingBackend()
    server = serve(backend)
    t = np.arange(96_000) / 48_000
    stream = (0.5 * np.sin(2 * np.pi * 440 * t)).astype("<f4").tobytes()
    start = json.dumps({"type": "start", "sample_rate": 48_000, "encoding": "pcm_f32le"})
    ws = await started(server, alice, start)
    for offset in range(0, len(stream), 3_001):
        await ws.send(stream[offset : offset + 3_001])
    await ws.send(json.dumps({"type": "stop"}))
    assert json.loads(await ws.recv())["type"] == "stopped"
    pcm = np.frombuffer(b"".join(backend.fed), dtype="<i2")
    assert len(pcm) == 32_000
    spectrum = np.abs(np.fft.rfft(pcm[1_000:-1_000]))
    assert np.argmax(spectrum) * 16_000 / len(pcm[1_000:-1_000]) == pytest.approx(440, abs=2)


async def test_unsupported_live_format_is_refused_before_a_session_opens(
    serve: Any, alice: Member
) -> None:
    backend = RecordingBackend()
    server = serve(backend)
    for start in (
        {"type": "start", "sample_rate": 96_000},
        {"type": "start", "sample_rate": 16_000, "encoding": "pcm_u8"},
    ):
        async with connect(audio_url(server, alice)) as ws:
            await ws.send(json.dumps(start))
            error = json.loads(await ws.recv())
            assert error["type"] == "error" and "8000-48000 Hz" in error["error"]
            assert await close_code(ws) == 1003
    assert backend.fed == [] and backend.detached == []


async def test_processor_failure_closes_1011_and_detaches_the_session(
    serve: Any, alice: Member
) -> None:
    backend = RecordingBackend(fail_feed=True)
    server = serve(backend)
    ws = await started(server, alice)
    await ws.send(b"\x00" * 9000)
    assert await close_code(ws) == 1011
    await asyncio.sleep(0.1)
    assert backend.detached == ["s1"]
    ws = await started(server, alice)  # the server still serves the next socket
    await ws.close()


async def test_room_and_live_sockets_share_the_per_user_cap(
    serve: Any, alice: Member, bob: Member
) -> None:
    server = serve(ws_max_connections_per_user=2)
    room = await connect(f"{server.ws_url}/ws/meeting/{alice.meeting_id}?token={alice.token}")
    assert json.loads(await room.recv())["type"] == "connected"
    live = await started(server, alice)
    async with connect(audio_url(server, alice)) as third:
        assert await close_code(third) == 4429
    other = await started(server, bob)  # another user is not affected
    for ws in (room, live, other):
        await ws.close()


async def test_unauthenticated_sockets_per_address_are_capped(serve: Any, alice: Member) -> None:
    server = serve(ws_max_pending_auth_per_address=3, ws_auth_timeout_s=1.0)
    paths = [f"/ws/meeting/{alice.meeting_id}", f"/ws/meeting/{alice.meeting_id}/audio"]
    waiting = [await connect(server.ws_url + paths[i % 2]) for i in range(3)]
    await asyncio.sleep(0.1)
    for path in paths:
        async with connect(server.ws_url + path) as refused:
            assert await close_code(refused, 2) == 4429
    live = await started(server, alice)  # a socket that offers its token never waits: served
    await live.close()
    for ws in waiting:
        assert await close_code(ws) == 4408  # the auth timeout still ends them
    live = await started(server, alice)  # and the address is served again afterwards
    await live.close()


class FinishedSessionBackend(RecordingBackend):
    async def live_stop(self, session_id: str) -> LiveReply:
        self.stopped.append(session_id)
        return UNKNOWN_SESSION


async def test_stop_of_a_finished_session_closes_4410_without_a_stopped_message(
    serve: Any, alice: Member
) -> None:
    server = serve(FinishedSessionBackend())
    ws = await started(server, alice)
    await ws.send(json.dumps({"type": "stop"}))
    assert await close_code(ws) == 4410  # not a "stopped" message carrying an error


async def test_started_and_stopped_follow_their_schemas(serve: Any, alice: Member) -> None:
    ws = await started(serve(), alice)
    await ws.send(json.dumps({"type": "stop"}))
    stopped = LiveStoppedMessage.model_validate_json(await ws.recv())
    assert (stopped.session_id, stopped.job_id, stopped.received_s) == ("s1", "j1", 0.0)
