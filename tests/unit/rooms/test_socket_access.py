"""Issue #15 item 7: open sockets lose access when the token expires or is revoked, when the
member is removed or the meeting deleted, on the replica that handled it and on the others."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from app.main import create_app
from app.security import create_access_token
from core.types import Segment
from persistence import Database, save_segments, share_meeting
from processor_api.backend import LocalBackend
from processor_api.live_replies import LiveReply, LiveSessionState
from settings.config import Settings
from tests.unit.rooms.conftest import Member
from tests.unit.rooms.live_server import LiveServer
from tests.unit.rooms.test_ws import close_code, recv_json, room_url

ServerFactory = Callable[..., LiveServer]


class LiveBackend(LocalBackend):
    """A Processor edge that accepts live sessions and records detaches."""

    def __init__(self) -> None:
        super().__init__()
        self.detached: list[str] = []
        self.fed = 0

    async def live_open(self, meeting_id: str, session_id: str | None) -> LiveReply:
        return LiveSessionState("s1", "j1", 0.0)

    async def live_feed(self, session_id: str, pcm: bytes) -> LiveReply:
        self.fed += len(pcm)
        return LiveSessionState(session_id, "j1", self.fed / 32000)

    async def live_detach(self, session_id: str) -> None:
        self.detached.append(session_id)


@pytest.fixture
def serve(settings: Settings, database_url: str) -> Iterator[ServerFactory]:
    servers: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        backend = LiveBackend()
        app = create_app(settings.model_copy(update=overrides), backend)
        server = LiveServer(app).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def share(database_url: str, meeting_id: str, user_id: str, role: str = "viewer") -> None:
    db = Database(database_url)
    try:
        with db.session() as session:
            share_meeting(session, meeting_id, user_id, role)  # type: ignore[arg-type]
    finally:
        db.dispose()


async def connected(url: str) -> ClientConnection:
    ws = await connect(url)
    assert (await recv_json(ws))["type"] == "connected"
    return ws


async def http(server: LiveServer, method: str, path: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=server.http_url) as client:
        r = await client.request(method, path, headers={"Authorization": f"Bearer {token}"})
        return r.status_code


async def timed_close(ws: ClientConnection) -> tuple[int | None, float]:
    started = time.monotonic()
    code = await close_code(ws, timeout_s=10)
    return code, time.monotonic() - started


async def test_removed_member_is_disconnected_4404(
    serve: ServerFactory, database_url: str, alice: Member, bob: Member
) -> None:
    server = serve()  # the default 15 s re-check: the removal itself triggers one here
    share(database_url, alice.meeting_id, bob.user_id)
    ws = await connected(room_url(server, alice.meeting_id, f"token={bob.token}"))
    path = f"/api/meetings/{alice.meeting_id}/members/{bob.user_id}"
    assert await http(server, "DELETE", path, alice.token) == 204
    code, waited = await timed_close(ws)
    assert code == 4404
    assert waited < 3
    # Reconnecting is refused as well.
    again = await connect(room_url(server, alice.meeting_id, f"token={bob.token}"))
    assert await close_code(again) == 4404


async def test_deleting_the_meeting_disconnects_everyone_4404(
    serve: ServerFactory, database_url: str, alice: Member, bob: Member
) -> None:
    server = serve()
    share(database_url, alice.meeting_id, bob.user_id)
    sockets = [
        await connected(room_url(server, alice.meeting_id, f"token={m.token}"))
        for m in (alice, bob)
    ]
    assert await http(server, "DELETE", f"/api/meetings/{alice.meeting_id}", alice.token) == 204
    codes = await asyncio.gather(*(close_code(ws) for ws in sockets))
    assert codes == [4404, 4404]


async def test_logout_disconnects_the_users_sockets_4401(
    serve: ServerFactory, alice: Member, bob: Member
) -> None:
    server = serve()
    mine = await connected(room_url(server, alice.meeting_id, f"token={alice.token}"))
    other = await connected(room_url(server, bob.meeting_id, f"token={bob.token}"))
    assert await http(server, "POST", "/api/auth/logout", alice.token) == 204
    assert await close_code(mine) == 4401
    await other.send('{"type":"ping"}')  # another user's socket is untouched
    assert (await recv_json(other))["type"] == "pong"
    await other.close()


async def test_socket_closes_4401_when_its_token_expires(
    serve: ServerFactory, settings: Settings, alice: Member
) -> None:
    server = serve()
    issued = datetime.now(UTC) - timedelta(seconds=settings.access_token_ttl_s - 2)
    token = create_access_token(alice.user_id, settings, now=issued)
    ws = await connected(room_url(server, alice.meeting_id, f"token={token}"))
    code, waited = await timed_close(ws)
    assert code == 4401
    assert waited < 4  # at the token's exp, not at the next periodic re-check


async def test_revocation_reaches_sockets_on_other_replicas(
    serve: ServerFactory, database_url: str, alice: Member, bob: Member
) -> None:
    first, second = serve(ws_access_recheck_s=0.5), serve(ws_access_recheck_s=0.5)
    share(database_url, alice.meeting_id, bob.user_id)
    ws = await connected(room_url(second, alice.meeting_id, f"token={bob.token}"))
    path = f"/api/meetings/{alice.meeting_id}/members/{bob.user_id}"
    assert await http(first, "DELETE", path, alice.token) == 204  # handled by the other one
    code, waited = await timed_close(ws)
    assert code == 4404
    assert waited < 3  # within the re-check interval (plus a query)


async def test_live_audio_socket_is_closed_and_its_session_detached(
    serve: ServerFactory, database_url: str, alice: Member, bob: Member
) -> None:
    server = serve()
    share(database_url, alice.meeting_id, bob.user_id, role="editor")
    url = f"{server.ws_url}/ws/meeting/{alice.meeting_id}/audio?token={bob.token}"
    async with connect(url) as ws:
        await ws.send('{"type":"start","sample_rate":16000}')
        assert (await recv_json(ws))["type"] == "started"
        await ws.send(b"\x00\x00" * 4000)
        path = f"/api/meetings/{alice.meeting_id}/members/{bob.user_id}"
        assert await http(server, "DELETE", path, alice.token) == 204
        assert await close_code(ws) == 4404
    backend: LiveBackend = server.app.state.backend
    assert backend.detached == ["s1"]


async def test_recording_live_over_a_transcript_needs_replace(
    serve: ServerFactory, database_url: str, alice: Member
) -> None:
    """Issue #15 item 8 on the live-audio socket."""
    server = serve()
    db = Database(database_url)
    try:
        with db.session() as session:
            save_segments(session, alice.meeting_id, [Segment("w0-0", "S", "Hi.", 0, 1, 0)])
    finally:
        db.dispose()
    base = f"{server.ws_url}/ws/meeting/{alice.meeting_id}/audio?token={alice.token}"
    async with connect(base) as ws:
        error = await recv_json(ws)
        assert (error["type"], error["code"]) == ("error", "transcript_exists")
        assert "replace=true" in error["error"]
        assert await close_code(ws) == 4409
    async with connect(f"{base}&replace=true") as ws:
        await ws.send('{"type":"start","sample_rate":16000}')
        assert (await recv_json(ws))["type"] == "started"


async def test_pending_auth_cap_counts_the_forwarded_client_behind_a_trusted_proxy(
    serve: ServerFactory, alice: Member
) -> None:
    """Behind a load balancer (here 127.0.0.1, trusted) clients are told apart by
    X-Forwarded-For; a forged header from an untrusted peer would be ignored (unit-tested in
    tests/unit/api/test_rate_limit.py)."""
    server = serve(
        ws_max_pending_auth_per_address=1, ws_auth_timeout_s=2.0, trusted_proxies="127.0.0.1"
    )
    url = room_url(server, alice.meeting_id)
    first = await connect(url, additional_headers={"X-Forwarded-For": "203.0.113.1"})
    await asyncio.sleep(0.1)
    async with connect(url, additional_headers={"X-Forwarded-For": "203.0.113.1"}) as same:
        assert await close_code(same, 2) == 4429  # that client's one pending socket is taken
    async with connect(url, additional_headers={"X-Forwarded-For": "203.0.113.2"}) as other:
        await other.send(json.dumps({"type": "auth", "token": alice.token}))
        assert (await recv_json(other))["type"] == "connected"  # another client is not refused
    assert await close_code(first) == 4408
