"""A room client that stops reading, behind Serve's proxy (`make run`'s default path).

The proxy takes every frame the Ingress sends, so the Ingress never sees such a client fall
behind (its 4429 fires only where it serves the socket itself). What closes the client is the
proxy's keepalive: a ping every 20 s, unanswered for 20 s, then close 1011, as
docs/protocol.md says. This holds the platform to that: the silent client is closed with 1011,
a watcher of the same meeting gets every event meanwhile, and the Ingress lets go of the
closed socket.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct
import time
from urllib.parse import urlsplit

import pytest

from scripts.synth_meeting import ensure_meeting
from tests.integration.client import collect_until_done, register
from tests.integration.conftest import RunningPlatform
from tests.integration.metrics_scrape import scrape, total, wait_for_samples

pytestmark = pytest.mark.slow
SOCKETS_GAUGE = "ray_meeting_websocket_connections"
# uvicorn's defaults in the proxy: a ping 20 s after the last one, 20 s to answer it.
KEEPALIVE_CLOSE_S = 40.0
MARGIN_S = 15.0
CLOSE_OPCODE = 0x8
GOING_WRONG = 1011


def open_silent_socket(base_url: str, meeting_id: str, token: str) -> socket.socket:
    """A room socket through the proxy that completes the handshake and never reads again."""
    address = urlsplit(base_url)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws/meeting/{meeting_id} HTTP/1.1\r\n"
        f"Host: {address.netloc}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Protocol: bearer, {token}\r\n\r\n"
    )
    sock.sendall(request.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)  # byte by byte: nothing past the headers is consumed
        assert chunk, "the proxy closed the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head.decode(errors="replace")
    return sock


def read_to_end(sock: socket.socket, timeout_s: float) -> bytes:
    """Everything the server sent until it closed the connection."""
    sock.settimeout(timeout_s)
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def frames(data: bytes) -> list[tuple[int, bytes]]:
    """(opcode, payload) of each unmasked server frame in ``data``."""
    found, at = [], 0
    while at < len(data):
        opcode, length = data[at] & 0x0F, data[at + 1] & 0x7F
        at += 2
        if length == 126:
            (length,) = struct.unpack_from("!H", data, at)
            at += 2
        elif length == 127:
            (length,) = struct.unpack_from("!Q", data, at)
            at += 8
        found.append((opcode, data[at : at + length]))
        at += length
    return found


def open_ingress_sockets() -> float:
    return total(scrape(), SOCKETS_GAUGE, deployment="Ingress")


def test_a_client_that_stops_reading_is_closed_by_the_keepalive(platform: RunningPlatform) -> None:
    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting("Silent watcher")
    audio = ensure_meeting("standup3", install=True)
    before = open_ingress_sockets()

    silent = open_silent_socket(platform.base_url, meeting_id, user.token)
    opened = time.monotonic()
    try:
        accepted = user.upload(meeting_id, audio.audio_path)
        assert accepted.status_code == 202, accepted.text
        received = asyncio.run(collect_until_done(user, meeting_id, last_seq=0))
        statuses = [m.message for m in received if m.message["type"] == "status"]
        assert statuses[-1]["status"] == "completed", statuses[-1]
        seqs = [m.message["seq"] for m in received if "seq" in m.message]
        assert seqs == list(range(1, len(seqs) + 1)), "the watcher missed events"

        time.sleep(max(0.0, opened + KEEPALIVE_CLOSE_S + MARGIN_S - time.monotonic()))
        sent = frames(read_to_end(silent, timeout_s=MARGIN_S))
    finally:
        silent.close()
    assert sent and sent[0][0] == 0x1 and b'"type":"connected"' in sent[0][1], sent[:1]
    opcode, payload = sent[-1]
    assert opcode == CLOSE_OPCODE, f"last frame opcode {opcode}, not a close"
    assert struct.unpack("!H", payload[:2])[0] == GOING_WRONG, payload

    wait_for_samples(
        lambda samples: total(samples, SOCKETS_GAUGE, deployment="Ingress") <= before,
        timeout_s=60,
    )
