"""Issue #15, input half: bodies bounded before parsing, uploads bounded before decoding, no
database connection held by a slow upload, per-user caps. Each test replays the attack."""

from __future__ import annotations

import io
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import av
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from persistence import Database, update_job
from persistence.session import POOL
from settings.config import Settings
from tests.unit.api.conftest import PASSWORD, Account, Api
from tests.unit.api.test_audio_routes import stored_files, upload, wav_bytes
from tests.unit.rooms.live_server import LiveServer


def wav_with_rate(rate: int, data_bytes: int = 20_000) -> bytes:
    """A syntactically valid 8-bit mono WAV that declares ``rate`` (the 1 Hz audio bomb)."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    data = b"\x80" * data_bytes
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(data))
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Any]:
    clients: list[TestClient] = []

    def make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(settings.model_copy(update=overrides)))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def live(settings: Settings) -> Iterator[Any]:
    servers: list[LiveServer] = []

    def start(**overrides: Any) -> LiveServer:
        server = LiveServer(create_app(settings.model_copy(update=overrides))).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def raw_post_headers(server: LiveServer, path: str, length: int, extra: str = "") -> bytes:
    """Send only the headers of a POST declaring ``length`` body bytes; the first reply bytes."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        request = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n{extra}\r\n"
        )
        sock.sendall(request.encode())
        return read_reply(sock)


def read_reply(sock: socket.socket) -> bytes:
    """One HTTP response: the head, then ``Content-Length`` bytes of body."""
    reply = b""
    while b"\r\n\r\n" not in reply:
        reply += sock.recv(4096)
    head, _, body = reply.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


# --- 2. body limits -------------------------------------------------------------------------


def test_multipart_to_token_endpoint_is_415_before_rate_limiter(
    make_client: Any, api: Api, alice: Account
) -> None:
    client = make_client(login_rate_limit=3)
    for _ in range(6):  # would exhaust the limiter twice over if it were counted
        r = client.post(
            "/api/auth/token",
            files={"pad": ("pad.bin", b"0" * 10_000)},
            data={"username": alice.email, "password": PASSWORD},
        )
        assert r.status_code == 415
        assert "multipart/form-data" in r.json()["detail"]
    r = client.post("/api/auth/token", data={"username": alice.email, "password": PASSWORD})
    assert r.status_code == 200, r.text


def test_multipart_is_refused_on_every_route_but_upload(client: TestClient) -> None:
    for path in ("/api/auth/register", "/api/auth/login", "/api/meetings"):
        r = client.post(path, files={"file": ("a.bin", b"0" * 100)})
        assert r.status_code == 415, path


def test_unauthenticated_huge_post_gets_413_without_sending_the_body(live: Any) -> None:
    server = live()
    started = time.monotonic()
    reply = raw_post_headers(server, "/api/auth/register", 287 * 1024**2)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:100]
    assert b"Request body too large" in reply
    assert time.monotonic() - started < 2


def test_unauthenticated_huge_upload_gets_401_without_sending_the_body(live: Any) -> None:
    server = live()
    reply = raw_post_headers(server, "/api/meetings/abc/audio", 500 * 1024**2)
    assert reply.startswith(b"HTTP/1.1 401"), reply[:100]


def test_streamed_multipart_without_length_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield from (b"x" * 4096 for _ in range(100))

    r = client.post(
        "/api/auth/register",
        content=chunks(),  # type: ignore[arg-type]
        headers={"Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 415


# --- 1. audio bomb at the Ingress -----------------------------------------------------------


@pytest.mark.parametrize("rate", [1, 100, 1_000_000])
def test_absurd_declared_sample_rate_is_400_and_nothing_is_queued(
    client: TestClient, api: Api, alice: Account, settings: Settings, rate: int
) -> None:
    meeting = api.create_meeting(alice)
    r = upload(client, alice, meeting["id"], wav_with_rate(rate))
    assert r.status_code == 400
    assert f"declares a sample rate of {rate} Hz" in r.json()["detail"]
    assert stored_files(settings, meeting["id"]) == []
    assert client.app.state.backend.submitted == []  # type: ignore[attr-defined]
    assert upload(client, alice, meeting["id"], wav_bytes()).status_code == 202


def flac_silence(seconds: int, rate: int = 8000) -> bytes:
    """Silence compresses to almost nothing: minutes of audio in a few KB (a duration bomb)."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        for second in range(seconds):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, rate), dtype=np.int16), format="s16", layout="mono"
            )
            frame.sample_rate, frame.pts = rate, second * rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


def test_duration_bomb_is_400_at_the_ingress_without_decoding(
    make_client: Any, alice: Account, settings: Settings
) -> None:
    client = make_client(max_audio_duration_s=60)
    meeting = Api(client).create_meeting(alice)
    bomb = flac_silence(180)
    assert len(bomb) < 40_000  # three minutes in a few KB
    r = upload(client, alice, meeting["id"], bomb)
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Audio is longer than the limit of 60 s")
    assert stored_files(settings, meeting["id"]) == []
    assert upload(client, alice, meeting["id"], flac_silence(5)).status_code == 202


# --- 3. no connection held by a slow upload -------------------------------------------------


def test_trickling_uploads_hold_no_database_connection(
    live: Any, api: Api, alice: Account, settings: Settings
) -> None:
    """One more slow upload than the pool has connections (10 + 30 by default): before the
    fix each held its request's session for the whole upload and everything else timed out."""
    meetings = [api.create_meeting(alice)["id"] for _ in range(2)]
    server = live()
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\n'
        + wav_bytes()
        + b"\r\n--b--\r\n"
    )
    trickles = POOL["pool_size"] + POOL["max_overflow"] + 1  # the default pool, used here
    sockets = [
        socket.create_connection(("127.0.0.1", server.port), timeout=10) for _ in range(trickles)
    ]
    try:
        for n, slow in enumerate(sockets):
            slow.sendall(
                (
                    f"POST /api/meetings/{meetings[n % 2]}/audio HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: Bearer {alice.token}\r\nContent-Length: {len(body)}\r\n"
                    "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
                ).encode()
                + body[:100]
            )
        time.sleep(1.0)  # every upload is admitted and now waits for the rest of its body
        with httpx.Client(base_url=server.http_url, timeout=5) as other:
            r = other.get("/api/meetings", headers=alice.headers)  # needs a pooled connection
            assert r.status_code == 200
        sockets[0].sendall(body[100:])
        assert read_reply(sockets[0]).startswith(b"HTTP/1.1 202")
    finally:
        for slow in sockets:
            slow.close()


# --- 5. per-user caps -------------------------------------------------------------------------


def test_concurrent_jobs_over_the_cap_are_429_with_retry_after(
    make_client: Any, bob: Account, alice: Account
) -> None:
    client = make_client(max_concurrent_jobs_per_user=1)
    api = Api(client)
    first, second = api.create_meeting(alice), api.create_meeting(alice)
    assert upload(client, alice, first["id"], wav_bytes()).status_code == 202
    r = upload(client, alice, second["id"], wav_bytes())
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "30"
    assert "wait for one to finish" in r.json()["detail"]
    theirs = api.create_meeting(bob)
    assert upload(client, bob, theirs["id"], wav_bytes()).status_code == 202  # others unaffected


def test_stored_audio_quota_bounds_the_stream_then_refuses(
    make_client: Any, alice: Account, db: Database
) -> None:
    quota = len(wav_bytes(0.5)) + len(wav_bytes(0.1))
    client = make_client(max_stored_audio_bytes_per_user=quota)
    api = Api(client)
    meeting = api.create_meeting(alice)
    r = upload(client, alice, meeting["id"], wav_bytes(0.5))
    assert r.status_code == 202
    with db.session() as session:
        update_job(session, r.json()["job_id"], status="completed")
    r = upload(client, alice, meeting["id"], wav_bytes(0.5))
    assert r.status_code == 413
    assert "exceed the meeting owner's audio storage" in r.json()["detail"]
    r = upload(client, alice, meeting["id"], wav_bytes(0.1))  # fits what is left
    assert r.status_code == 202
    with db.session() as session:
        update_job(session, r.json()["job_id"], status="completed")
    r = upload(client, alice, meeting["id"], wav_bytes(0.1))
    assert r.status_code == 429
    assert "storage is full" in r.json()["detail"]


def test_meetings_over_the_cap_are_429(make_client: Any, alice: Account) -> None:
    client = make_client(max_meetings_per_user=2)
    for _ in range(2):
        assert client.post("/api/meetings", json={"title": "t"}, headers=alice.headers).is_success
    r = client.post("/api/meetings", json={"title": "t"}, headers=alice.headers)
    assert r.status_code == 429
    assert "delete one" in r.json()["detail"]


def test_members_over_the_cap_are_429_but_a_role_change_fits(
    make_client: Any, alice: Account
) -> None:
    client = make_client(max_members_per_meeting=2)  # the owner and one more
    api = Api(client)
    bob, carol = api.register("bob@example.com"), api.register("carol@example.com")
    meeting = api.create_meeting(alice)
    members = f"/api/meetings/{meeting['id']}/members"

    def share(email: str, role: str = "viewer") -> httpx.Response:
        return client.post(members, json={"email": email, "role": role}, headers=alice.headers)

    assert share(bob.email).status_code == 201
    refused = share(carol.email)
    assert refused.status_code == 429
    assert "remove one" in refused.json()["detail"]
    assert share(bob.email, "editor").status_code == 201  # a role change always fits
    assert client.delete(f"{members}/{bob.id}", headers=alice.headers).status_code == 204
    assert share(carol.email).status_code == 201


def test_database_pool_size_comes_from_the_settings(make_client: Any) -> None:
    client = make_client(db_pool_size=3, db_max_overflow=2)
    pool = client.app.state.db.engine.pool  # type: ignore[attr-defined]
    assert (pool.size(), pool._max_overflow) == (3, 2)


def test_upload_with_thousands_of_parts_is_400(
    client: TestClient, api: Api, alice: Account, settings: Settings
) -> None:
    meeting = api.create_meeting(alice)
    parts = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="n%d"\r\n\r\nx\r\n' % i for i in range(5000)
    )
    r = client.post(
        f"/api/meetings/{meeting['id']}/audio",
        content=parts + b"--b--\r\n",
        headers={**alice.headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert r.status_code == 400
    assert r.json()["detail"] == "Too many form parts (send at most 16)"
    assert stored_files(settings, meeting["id"]) == []
