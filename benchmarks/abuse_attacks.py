"""The hostile clients of the abuse run (``benchmarks.abuse``): each attack is bounded in count
and time, talks to loopback only, and returns a tally of the answers it got."""

from __future__ import annotations

import asyncio
import io
import json
import struct
from collections import Counter
from typing import Any

import av
import httpx
import numpy as np
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from benchmarks.client import PASSWORD, BenchUser

Tally = dict[str, int]


def wav_with_rate(rate: int, data_bytes: int = 20_000) -> bytes:
    """An 8-bit WAV declaring ``rate``: at 1 Hz, 20 KB asked for 1.2 GiB of 16 kHz audio."""
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate, 1, 8)
    data = b"\x80" * data_bytes
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16)
    return header + fmt + b"data" + struct.pack("<I", len(data)) + data


def flac_silence(seconds: int, rate: int = 4000) -> bytes:
    """Hours of silence in a few MB of FLAC: past the duration limit, small on the wire."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = "mono"
        minute = np.zeros((1, rate * 60), dtype=np.int16)
        for n in range(seconds // 60):
            frame = av.AudioFrame.from_ndarray(minute, format="s16", layout="mono")
            frame.sample_rate, frame.pts = rate, n * rate * 60
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buffer.getvalue()


async def audio_bombs(user: BenchUser, meeting_id: str, bombs: dict[str, bytes]) -> Tally:
    """Upload each bomb; the Ingress must refuse every one (400) before a job exists."""
    tally: Counter[str] = Counter()
    async with httpx.AsyncClient(base_url=user.base_url, timeout=120) as client:
        for name, data in bombs.items():
            r = await client.post(
                f"/api/meetings/{meeting_id}/audio",
                files={"file": (name, data, "application/octet-stream")},
                headers=user.headers,
            )
            tally[f"{name}:{r.status_code}"] += 1
    return dict(tally)


async def _raw_request(host: str, port: int, head: bytes, body: bytes = b"") -> int:
    """Send a raw HTTP request (possibly only its head) and return the status code."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(head + body)
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 30)
        return int(line.split()[1]) if line else 0
    finally:
        writer.close()


async def multipart_floods(user: BenchUser, port: int, count: int) -> Tally:
    """Unauthenticated huge multipart POSTs (headers only), multipart logins with file parts,
    and an authenticated upload of thousands of tiny parts."""
    tally: Counter[str] = Counter()
    huge = (
        b"POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Length: 300941312\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\n\r\n"
    )
    codes = await asyncio.gather(*(_raw_request("127.0.0.1", port, huge) for _ in range(count)))
    tally.update(f"register-287MiB:{c}" for c in codes)
    async with httpx.AsyncClient(base_url=user.base_url, timeout=60) as client:
        for size in (1_000_000, 30_000) * (count // 2):
            try:
                r = await client.post(
                    "/api/auth/token",
                    files={"pad": ("pad.bin", b"0" * size)},
                    data={"username": "victim@example.com", "password": "x"},
                )
                tally[f"token-multipart-{size}B:{r.status_code}"] += 1
            except httpx.TransportError:  # refused on its length; the unread body was reset
                tally[f"token-multipart-{size}B:reset-after-413"] += 1
    parts = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="n%d"\r\n\r\nx\r\n' % i for i in range(20_000)
    )
    async with httpx.AsyncClient(base_url=user.base_url, timeout=120) as client:
        for _ in range(max(count // 10, 1)):
            r = await client.post(
                f"/api/meetings/{user_meeting(user)}/audio",
                content=parts + b"--b--\r\n",
                headers={**user.headers, "Content-Type": "multipart/form-data; boundary=b"},
            )
            tally[f"upload-20k-parts:{r.status_code}"] += 1
    return dict(tally)


_MEETINGS: dict[str, str] = {}


def user_meeting(user: BenchUser) -> str:
    return _MEETINGS[user.token]


def remember_meeting(user: BenchUser, meeting_id: str) -> None:
    _MEETINGS[user.token] = meeting_id


async def _trickle(port: int, user: BenchUser, meeting_id: str, seconds: float) -> str:
    body_len = 10_000_000
    head = (
        f"POST /api/meetings/{meeting_id}/audio HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {user.token}\r\nContent-Length: {body_len}\r\n"
        "Content-Type: multipart/form-data; boundary=b\r\n\r\n"
        '--b\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nRIFF'
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head)
        await writer.drain()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while loop.time() < deadline:
            await asyncio.sleep(1.0)
            writer.write(b"\0")  # one byte a second: the slowest upload a client can send
            await writer.drain()
            if reader.at_eof():
                return "closed-by-server"
        return "abandoned"
    except (ConnectionError, OSError):
        return "closed-by-server"
    finally:
        writer.close()


async def trickling_uploads(
    user: BenchUser, port: int, meeting_id: str, count: int, seconds: float
) -> Tally:
    results = await asyncio.gather(
        *(_trickle(port, user, meeting_id, seconds) for _ in range(count))
    )
    return dict(Counter(results))


async def _idle_socket(url: str, hold_s: float, subprotocols: Any = None) -> str:
    try:
        async with websockets.connect(url, subprotocols=subprotocols, open_timeout=30) as ws:
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), hold_s)
            except ConnectionClosed as e:
                return f"close-{e.rcvd.code if e.rcvd else 'none'}"
            except TimeoutError:
                return "still-open"
    except (InvalidStatus, OSError, TimeoutError) as e:
        return f"refused-{type(e).__name__}"


async def idle_sockets(user: BenchUser, meeting_id: str, count: int, hold_s: float) -> Tally:
    """Half never authenticate (room and audio), half authenticate and never send ``start``."""
    room = f"{user.ws_url}/ws/meeting/{meeting_id}"
    audio = f"{room}/audio"
    bearer: Any = ["bearer", user.token]
    tasks = [_idle_socket(room if i % 2 else audio, hold_s) for i in range(count // 2)]
    tasks += [_idle_socket(audio, hold_s, bearer) for _ in range(count - count // 2)]
    results = await asyncio.gather(*tasks)
    unauth, auth = results[: count // 2], results[count // 2 :]
    tally = Counter(f"unauthenticated:{r}" for r in unauth)
    tally.update(f"authenticated-no-start:{r}" for r in auth)
    return dict(tally)


async def odd_pcm(user: BenchUser, meeting_id: str) -> Tally:
    """A live session fed odd-length frames, then stopped: it must finish, not hang."""
    url = f"{user.ws_url}/ws/meeting/{meeting_id}/audio"
    tally: Counter[str] = Counter()
    async with websockets.connect(url, subprotocols=["bearer", user.token]) as ws:  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
        tally[json.loads(await ws.recv())["type"]] += 1
        for size in (3201, 1, 4799, 3, 8001, 1999):
            await ws.send(b"\x01" * size)
            await asyncio.sleep(0.1)
        await ws.send(json.dumps({"type": "stop"}))
        reply = json.loads(await asyncio.wait_for(ws.recv(), 120))
        tally[reply["type"]] += 1
    async with httpx.AsyncClient(base_url=user.base_url, timeout=30) as client:
        r = await client.get(f"/api/meetings/{meeting_id}", headers=user.headers)
        tally[f"meeting-status:{r.json().get('status')}"] += 1
    return dict(tally)


async def lockout_attempts(victim: BenchUser, addresses: int, per_address: int) -> Tally:
    """Password guessing against the victim's account from ``addresses`` addresses (named in
    ``X-Forwarded-For``; the run trusts loopback as a proxy). Every answer must be 401 or 429."""
    tally: Counter[str] = Counter()

    async def guess_from(n: int, client: httpx.AsyncClient) -> None:
        forwarded = {"X-Forwarded-For": f"203.0.113.{n + 1}"}
        for i in range(per_address):
            body = {"email": victim.email, "password": f"wrong-guess-{n}-{i}"}
            r = await client.post("/api/auth/login", json=body, headers=forwarded)
            tally[f"guess:{r.status_code}"] += 1

    async with httpx.AsyncClient(base_url=victim.base_url, timeout=60) as client:
        await asyncio.gather(*(guess_from(n, client) for n in range(addresses)))
    return dict(tally)


async def owner_login(victim: BenchUser) -> dict[str, Any]:
    """The owner, from the address it logged in from before, signs in right after the attack."""
    async with httpx.AsyncClient(base_url=victim.base_url, timeout=120) as client:
        began = asyncio.get_running_loop().time()
        body = {"email": victim.email, "password": PASSWORD}
        r = await client.post("/api/auth/login", json=body)
        waited = asyncio.get_running_loop().time() - began
    return {"status": r.status_code, "seconds": round(waited, 2)}
