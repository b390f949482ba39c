"""The load benchmark's clients: room watchers, uploaders and live streamers, over the real path.

A watcher notes the wall-clock time at which each frame arrived (before parsing it) and keeps
the raw frame; latency is computed afterwards against the event's own ``timestamp``, which the
Processor sets when it creates the event (same machine, same clock). Keeping the parse out of
the receive loop keeps the client's own cost out of the figures as far as one process can.
So does ``collector_paused``: the clients' garbage collector stays off while a round runs.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from meetingserve_cli.room import is_terminal

PASSWORD = "load benchmark horse staple"  # noqa: S105 - throwaway benchmark accounts
LIVE_CHUNK_S = 0.1
OPEN_TIMEOUT_S = 60


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's garbage collector off for the block, after one collection. The client process
    keeps every frame of every round, and a full collection over them stopped all its sockets'
    receive loops for 170-210 ms by a run's fifth round: a latency the server never added,
    which showed up as one round's stall. A round's cyclic garbage waits until it ends."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@dataclass(frozen=True)
class Owner:
    """A meeting and its owner's token (every watcher of the meeting uses it)."""

    meeting_id: str
    token: str


async def create_owner(client: httpx.AsyncClient, index: int) -> Owner:
    email = f"load-{uuid.uuid4().hex[:10]}-{index}@example.com"
    r = await client.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    r = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    r.raise_for_status()
    token = r.json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    r = await client.post("/api/meetings", json={"title": f"load {index}"}, headers=headers)
    r.raise_for_status()
    return Owner(r.json()["id"], token)


def event_epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Watcher:
    """One room socket; ``frames`` holds (arrival wall time, raw text)."""

    owner: Owner
    batch: bool = False  # opt in to batch frames (``?batch=1``), as the web client does
    frames: list[tuple[float, str]] = field(default_factory=list)
    error: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, ws_url: str, ready: asyncio.Semaphore, stop: asyncio.Event) -> None:
        url = f"{ws_url}/ws/meeting/{self.owner.meeting_id}?last_seq=0"
        url += "&batch=1" if self.batch else ""
        try:
            async with ready:
                ws = await connect(
                    url,
                    subprotocols=["bearer", self.owner.token],  # type: ignore[list-item]
                    open_timeout=OPEN_TIMEOUT_S,
                    max_size=2**22,
                )
            async with ws:
                await self._receive(ws, stop)
        except Exception as e:  # recorded and reported as a loss, never hidden
            self.error = repr(e)
        finally:
            self.done.set()

    async def _receive(self, ws: ClientConnection, stop: asyncio.Event) -> None:
        stopper = asyncio.create_task(stop.wait())
        try:
            while True:
                recv = asyncio.create_task(ws.recv())
                done, _ = await asyncio.wait({recv, stopper}, return_when=asyncio.FIRST_COMPLETED)
                if recv not in done:
                    recv.cancel()
                    return
                self.frames.append((time.time(), str(recv.result())))
        finally:
            stopper.cancel()

    def messages(self) -> list[tuple[float, dict[str, Any]]]:
        """Every message with its frame's arrival time (a batch frame's messages share it)."""
        out: list[tuple[float, dict[str, Any]]] = []
        for at, raw in self.frames:
            message = json.loads(raw)
            inner = message.get("messages") if message.get("type") == "batch" else [message]
            out += [(at, m) for m in inner]
        return out


def finished_jobs(watcher: Watcher) -> int:
    """Terminal job statuses this watcher saw (each job ends with one)."""
    return sum(1 for _, m in watcher.messages() if is_terminal(m, None))


async def upload(client: httpx.AsyncClient, owner: Owner, audio: bytes) -> float:
    """Upload one file; returns when the server accepted it (wall time)."""
    headers = {"Authorization": f"Bearer {owner.token}"}
    files = {"file": ("meeting.wav", audio, "audio/wav")}
    r = await client.post(f"/api/meetings/{owner.meeting_id}/audio", files=files, headers=headers)
    r.raise_for_status()
    return time.time()


async def stream_live(ws_url: str, owner: Owner, pcm: np.ndarray, sample_rate: int) -> None:
    """Stream 16-bit PCM at real time through the live-audio socket, then stop and wait."""
    url = f"{ws_url}/ws/meeting/{owner.meeting_id}/audio"
    chunk = int(sample_rate * LIVE_CHUNK_S)
    async with connect(
        url,
        subprotocols=["bearer", owner.token],
        open_timeout=OPEN_TIMEOUT_S,  # type: ignore[list-item]
    ) as ws:
        start = {"type": "start", "sample_rate": sample_rate, "encoding": "pcm_s16le"}
        await ws.send(json.dumps(start))
        json.loads(await ws.recv())  # started
        began = time.monotonic()
        for k, offset in enumerate(range(0, len(pcm), chunk)):
            await ws.send(pcm[offset : offset + chunk].tobytes())
            await asyncio.sleep(max(0.0, began + (k + 1) * LIVE_CHUNK_S - time.monotonic()))
        await ws.send(json.dumps({"type": "stop"}))
        async for raw in ws:
            if json.loads(raw).get("type") == "stopped":
                return


def read_pcm16(path: Path) -> tuple[np.ndarray, int]:
    """A 16-bit mono WAV's samples (the synthetic corpus writes exactly that)."""
    import wave

    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path}: expected 16-bit mono WAV")
        rate = wav.getframerate()
        data = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return data, rate
