"""Streams a recording into ``/ws/meeting/{id}/audio`` at real-time speed (tests, benchmarks)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import websockets

FRAME_S = 0.1
SAMPLE_RATE = 16_000


@dataclass
class StreamLog:
    """When each position of the audio was sent (monotonic clock) and what the server said."""

    sent_at: list[tuple[float, float]] = field(default_factory=list)  # (audio seconds, time)
    replies: list[dict[str, Any]] = field(default_factory=list)
    stop_sent_at: float | None = None

    def time_sent(self, audio_s: float) -> float:
        for position, at in self.sent_at:
            if position >= audio_s:
                return at
        return self.sent_at[-1][1]


def pcm16(audio: np.ndarray) -> bytes:
    return (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()


async def stream_audio(
    ws_url: str,
    meeting_id: str,
    token: str,
    audio: np.ndarray,
    log: StreamLog,
    start_s: float = 0.0,
    stop_s: float | None = None,
    session_id: str | None = None,
    finish: bool = True,
    start_fields: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Send ``audio[start_s:stop_s]`` in real time; returns the ``started`` reply.
    ``start_fields`` go into the start message (e.g. ``language``, ``translate_to``)."""
    url = f"{ws_url}/ws/meeting/{meeting_id}/audio"
    async with websockets.connect(url, subprotocols=["bearer", token]) as ws:  # type: ignore[list-item]
        start: dict[str, Any] = {"type": "start", "sample_rate": SAMPLE_RATE}
        start |= {"encoding": "pcm_s16le", **(start_fields or {})}
        if session_id:
            start["session_id"] = session_id
        await ws.send(json.dumps(start))
        started: dict[str, Any] = json.loads(await ws.recv())
        assert started["type"] == "started", started
        await send_frames(ws, audio, log, start_s, stop_s)
        if finish:
            log.stop_sent_at = time.monotonic()
            await ws.send(json.dumps({"type": "stop"}))
            log.replies.append(json.loads(await asyncio.wait_for(ws.recv(), 300)))
        return started


async def send_frames(
    ws: Any, audio: np.ndarray, log: StreamLog, start_s: float, stop_s: float | None
) -> None:
    frame = int(FRAME_S * SAMPLE_RATE)
    first = int(start_s * SAMPLE_RATE)
    last = len(audio) if stop_s is None else min(len(audio), int(stop_s * SAMPLE_RATE))
    began = time.monotonic()
    for n, offset in enumerate(range(first, last, frame)):
        chunk = audio[offset : min(offset + frame, last)]
        await ws.send(pcm16(chunk))
        log.sent_at.append(((offset + len(chunk)) / SAMPLE_RATE, time.monotonic()))
        delay = began + (n + 1) * FRAME_S - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
