"""``WS /ws/meeting/{id}`` end to end against a real uvicorn server and the websockets client."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.uri import parse_uri

from app.main import create_app
from app.security import create_access_token
from app.sockets.fanout import RoomFanout
from rooms.hub import EventLog
from rooms.publish import publish_error, publish_status
from settings.config import Settings
from tests.unit.rooms.conftest import Member
from tests.unit.rooms.live_server import LiveServer

ServerFactory = Callable[..., LiveServer]


@pytest.fixture
def serve(settings: Settings, database_url: str) -> Iterator[ServerFactory]:
    """Start the app on a random port with some settings overridden."""
    servers: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        server = LiveServer(create_app(settings.model_copy(update=overrides))).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def server(serve: ServerFactory) -> LiveServer:
    return serve()


def room_url(server: LiveServer, meeting_id: str, query: str = "") -> str:
    return f"{server.ws_url}/ws/meeting/{meeting_id}" + (f"?{query}" if query else "")


async def recv_json(ws: ClientConnection, timeout_s: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
    return message


async def recv_durable(ws: ClientConnection, count: int) -> list[dict[str, Any]]:
    """The next ``count`` messages with a seq (keepalives are skipped)."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        message = await recv_json(ws)
        if "seq" in message:
            events.append(message)
    return events


async def close_code(ws: ClientConnection, timeout_s: float = 10) -> int | None:
    """Read until the server closes; the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout_s)
    except ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else None


async def publish(server: LiveServer, meeting_id: str, n: int, tag: str = "") -> list[int]:
    hub = server.app.state.hub
    seqs = []
    for i in range(n):
        event = await server.call(
            publish_status(hub, meeting_id, "processing", "upload", f"{tag}{i}")
        )
        seqs.append(int(event["seq"]))
    return seqs


async def test_query_token_connects_with_last_seq_then_replays_and_streams_live(
    server: LiveServer, alice: Member
) -> None:
    await publish(server, alice.meeting_id, 3)
    url = room_url(server, alice.meeting_id, f"token={alice.token}&last_seq=1")
    async with connect(url) as ws:
        connected = await recv_json(ws)
        assert connected["type"] == "connected"
        assert connected["meeting_id"] == alice.meeting_id
        assert connected["last_seq"] == 3
        assert connected["message"] == "Connected to real-time meeting updates"
        assert len(connected["server_id"]) == 12
        assert "seq" not in connected
        assert [e["seq"] for e in await recv_durable(ws, 2)] == [2, 3]
        await publish(server, alice.meeting_id, 1, tag="live")
        (live,) = await recv_durable(ws, 1)
        assert (live["seq"], live["details"]["message"]) == (4, "live0")
        assert (live["type"], live["status"], live["meeting_id"]) == (
            "status",
            "processing",
            alice.meeting_id,
        )


async def test_bearer_subprotocol_authenticates(server: LiveServer, alice: Member) -> None:
    async with connect(
        room_url(server, alice.meeting_id),
        subprotocols=["bearer", alice.token],  # type: ignore[list-item]
    ) as ws:
        assert ws.subprotocol == "bearer"
        assert (await recv_json(ws))["type"] == "connected"


async def test_first_message_auth_authenticates(server: LiveServer, alice: Member) -> None:
    async with connect(room_url(server, alice.meeting_id)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": alice.token}))
        connected = await recv_json(ws)
        assert (connected["type"], connected["last_seq"]) == ("connected", 0)
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv_json(ws))["type"] == "pong"


@pytest.mark.parametrize("form", ["query", "subprotocol", "message"])
async def test_invalid_token_closes_4401_in_every_form(
    server: LiveServer, alice: Member, form: str
) -> None:
    bad = alice.token[:-4] + "AAAA"
    if form == "query":
        ws = await connect(room_url(server, alice.meeting_id, f"token={bad}"))
    elif form == "subprotocol":
        ws = await connect(room_url(server, alice.meeting_id), subprotocols=["bearer", bad])  # type: ignore[list-item]
    else:
        ws = await connect(room_url(server, alice.meeting_id))
        await ws.send(json.dumps({"type": "auth", "token": bad}))
    assert await close_code(ws) == 4401


async def test_expired_token_closes_4401(
    server: LiveServer, alice: Member, settings: Settings
) -> None:
    expired = create_access_token(
        alice.user_id, settings, now=datetime.now(UTC) - timedelta(days=2)
    )
    ws = await connect(room_url(server, alice.meeting_id, f"token={expired}"))
    assert await close_code(ws) == 4401


async def test_first_message_that_is_not_auth_closes_4401(
    server: LiveServer, alice: Member
) -> None:
    ws = await connect(room_url(server, alice.meeting_id))
    await ws.send(json.dumps({"type": "ping"}))
    assert await close_code(ws) == 4401


async def test_foreign_or_unknown_meeting_closes_4404(
    server: LiveServer, alice: Member, bob: Member
) -> None:
    ws = await connect(room_url(server, alice.meeting_id, f"token={bob.token}"))
    assert await close_code(ws) == 4404
    ws = await connect(room_url(server, "no-such-meeting", f"token={bob.token}"))
    assert await close_code(ws) == 4404


async def test_missing_auth_message_closes_4408(serve: ServerFactory, alice: Member) -> None:
    server = serve(ws_auth_timeout_s=0.3)
    ws = await connect(room_url(server, alice.meeting_id))
    assert await close_code(ws) == 4408


async def test_connections_over_the_per_user_cap_close_4429(
    serve: ServerFactory, alice: Member, bob: Member
) -> None:
    server = serve(ws_max_connections_per_user=2)
    url = room_url(server, alice.meeting_id, f"token={alice.token}")
    first, second = await connect(url), await connect(url)
    for ws in (first, second):
        assert (await recv_json(ws))["type"] == "connected"
    assert await close_code(await connect(url)) == 4429
    async with connect(room_url(server, bob.meeting_id, f"token={bob.token}")) as other_user:
        assert (await recv_json(other_user))["type"] == "connected"
    await first.close()
    await asyncio.sleep(0.2)  # the server releases the slot when its handler ends
    async with connect(url) as again:
        assert (await recv_json(again))["type"] == "connected"
    await second.close()


async def test_oversize_message_closes_1009(serve: ServerFactory, alice: Member) -> None:
    server = serve(ws_max_message_bytes=1024)
    ws = await connect(room_url(server, alice.meeting_id, f"token={alice.token}"))
    await recv_json(ws)
    await ws.send(json.dumps({"type": "ping", "pad": "x" * 2000}))
    assert await close_code(ws) == 1009


@pytest.mark.parametrize(
    "raw", ["not json", '{"type":"dance"}', '{"type":"resume","last_seq":-1}', "[1,2]"]
)
async def test_malformed_message_gets_bad_message_and_socket_stays_open(
    server: LiveServer, alice: Member, raw: str
) -> None:
    async with connect(room_url(server, alice.meeting_id, f"token={alice.token}")) as ws:
        await recv_json(ws)
        await ws.send(raw)
        error = await recv_json(ws)
        assert (error["type"], error["code"]) == ("error", "bad_message")
        assert error["error"] == "Unknown or malformed message"
        assert "seq" not in error
        await ws.send(json.dumps({"type": "ping"}))
        pong = await recv_json(ws)
        assert pong["type"] == "pong"
        assert pong["timestamp"].endswith("Z")


async def test_resume_message_replays_missed_events(server: LiveServer, alice: Member) -> None:
    async with connect(room_url(server, alice.meeting_id, f"token={alice.token}")) as ws:
        await recv_json(ws)
        await publish(server, alice.meeting_id, 4)
        assert [e["seq"] for e in await recv_durable(ws, 4)] == [1, 2, 3, 4]
        await ws.send(json.dumps({"type": "resume", "last_seq": 2}))
        assert [e["seq"] for e in await recv_durable(ws, 2)] == [3, 4]
        await publish(server, alice.meeting_id, 1)
        assert [e["seq"] for e in await recv_durable(ws, 1)] == [5]


async def test_reconnect_with_last_seq_gets_exactly_the_missed_events(
    server: LiveServer, alice: Member
) -> None:
    url = room_url(server, alice.meeting_id, f"token={alice.token}")
    async with connect(url) as ws:
        await recv_json(ws)
        await publish(server, alice.meeting_id, 2)
        seen = [e["seq"] for e in await recv_durable(ws, 2)]
    await publish(server, alice.meeting_id, 3)  # missed while away
    async with connect(f"{url}&last_seq={seen[-1]}") as ws:
        assert (await recv_json(ws))["last_seq"] == 5
        await server.call(publish_error(server.app.state.hub, alice.meeting_id, "boom", "x"))
        events = await recv_durable(ws, 4)
        assert [e["seq"] for e in events] == [3, 4, 5, 6]
        assert (events[-1]["type"], events[-1]["error"], events[-1]["code"]) == (
            "error",
            "boom",
            "x",
        )


class StalledClient:
    """A WebSocket client on a blocking socket that reads only when told to.

    The ``websockets`` asyncio client keeps draining its socket in the background, so it cannot
    play a client that stopped reading; the library's sans-I/O protocol on a raw socket can.
    A small SO_RCVBUF (set before connecting, which disables autotuning) keeps the kernel from
    absorbing tens of megabytes on the client's behalf.
    """

    def __init__(self, url: str, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.settimeout(10)
        self.sock.connect(("127.0.0.1", port))
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.protocol.send_request(self.protocol.connect())
        self.messages: list[dict[str, Any]] = []
        self._flush()
        while not self.messages:  # the handshake response, then ``connected``
            self._read_once()

    def _flush(self) -> None:
        self.sock.sendall(b"".join(self.protocol.data_to_send()))

    def _read_once(self) -> bool:
        data = self.sock.recv(1 << 20)
        self.protocol.receive_data(data) if data else self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                self.messages.append(json.loads(bytes(event.data)))
        self._flush()  # answer pings / the close frame
        return bool(data)

    def read_until_closed(self) -> int | None:
        """Read everything that was sent; the close code the server sent."""
        while self.protocol.close_rcvd is None and self._read_once():
            pass
        self.sock.close()
        return self.protocol.close_rcvd.code if self.protocol.close_rcvd else None


async def test_slow_consumer_is_closed_4429_after_everything_it_was_sent(
    serve: ServerFactory, alice: Member
) -> None:
    server = serve(ws_send_queue_size=4)
    fanout: RoomFanout = server.app.state.fanout
    hub: EventLog = server.app.state.hub
    url = room_url(server, alice.meeting_id, f"token={alice.token}")
    client = await asyncio.to_thread(StalledClient, url, server.port)
    assert client.messages[0]["type"] == "connected"
    big = {"type": "transcript", "pad": "x" * 64 * 1024}
    published = 0
    while fanout.subscriber_count(alice.meeting_id) and published < 500:
        await server.call(hub.publish(alice.meeting_id, big))
        published += 1
        await asyncio.sleep(0.005)  # let the fan-out loop run between publishes
    assert fanout.subscriber_count(alice.meeting_id) == 0, "the server never gave up on it"
    assert await asyncio.to_thread(client.read_until_closed) == 4429
    seqs = [m["seq"] for m in client.messages[1:]]
    assert seqs == list(range(1, len(seqs) + 1))  # a clean prefix: resume from seqs[-1]
    assert len(seqs) < published


async def test_user_never_receives_another_users_events(
    server: LiveServer, alice: Member, bob: Member
) -> None:
    async with connect(room_url(server, bob.meeting_id, f"token={bob.token}&last_seq=0")) as ws:
        await recv_json(ws)
        await publish(server, alice.meeting_id, 3, tag="alice")
        await publish(server, bob.meeting_id, 1, tag="bob")
        await publish(server, alice.meeting_id, 2, tag="alice")
        await publish(server, bob.meeting_id, 1, tag="bob-last")
        events = await recv_durable(ws, 2)
        assert [(e["seq"], e["details"]["message"]) for e in events] == [
            (1, "bob0"),
            (2, "bob-last0"),
        ]
        assert {e["meeting_id"] for e in events} == {bob.meeting_id}
        await ws.send(json.dumps({"type": "ping"}))
        assert (await recv_json(ws))["type"] == "pong"  # nothing else was queued before it


async def test_token_never_reaches_a_log_record(
    server: LiveServer, alice: Member, bob: Member, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "websockets", "app", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    async with connect(room_url(server, alice.meeting_id, f"token={alice.token}&last_seq=0")) as ws:
        await recv_json(ws)
    async with connect(room_url(server, alice.meeting_id), subprotocols=["bearer", alice.token]):  # type: ignore[list-item]
        pass
    async with connect(room_url(server, alice.meeting_id)) as ws:
        await ws.send(json.dumps({"type": "auth", "token": alice.token}))
        await recv_json(ws)
    assert (
        await close_code(await connect(room_url(server, alice.meeting_id, f"token={bob.token}")))
        == 4404
    )
    await asyncio.sleep(0.2)

    assert any("WebSocket /ws/meeting/" in r.getMessage() for r in caplog.records)
    assert any(r.name == "uvicorn.error" and r.levelno == logging.DEBUG for r in caplog.records)
    # The test's own client logs its handshake under websockets.client: not the server's logs.
    server_records = [r for r in caplog.records if not r.name.startswith("websockets.client")]
    assert len(server_records) > 20
    everything = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in server_records)
    for token in (alice.token, bob.token):
        assert token not in everything
        assert token.rsplit(".", 1)[1][:16] not in everything  # nor its signature
        assert token.split(".")[1][:24] not in everything  # nor its claims
