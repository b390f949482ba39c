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


def mulaw(audio: np.ndarray) -> bytes:
    """G.711 mu-law bytes of float audio (the encoder ``core.live_input.mulaw_table`` undoes)."""
    linear = np.abs(np.clip(audio, -1, 1) * 32767).astype(np.int32)
    biased = np.minimum(linear, 32635) + 0x84
    exponent = np.clip(np.floor(np.log2(biased)).astype(np.int32) - 7, 0, 7)
    mantissa = (biased >> (exponent + 3)) & 0x0F
    sign = (audio < 0).astype(np.int32) << 7
    return (~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes()


@dataclass(frozen=True)
class WireFormat:
    """How a client sends its audio: the ``start`` fields and each frame's bytes."""

    sample_rate: int = SAMPLE_RATE
    encoding: str = "pcm_s16le"

    def render(self, audio: np.ndarray) -> np.ndarray:
        """16 kHz audio at this format's rate (a whole-array resample, as a capture would be)."""
        if self.sample_rate == SAMPLE_RATE:
            return audio
        import av

        resampler = av.AudioResampler(format="flt", layout="mono", rate=self.sample_rate)
        frame = av.AudioFrame.from_ndarray(
            np.asarray(audio, dtype=np.float32)[None, :], format="flt", layout="mono"
        )
        frame.sample_rate = SAMPLE_RATE
        frames = [*resampler.resample(frame), *resampler.resample(None)]
        return np.concatenate([f.to_ndarray()[0] for f in frames])

    def encode(self, chunk: np.ndarray) -> bytes:
        if self.encoding == "pcm_f32le":
            return np.asarray(chunk, dtype="<f4").tobytes()
        if self.encoding == "pcm_mulaw":
            return mulaw(chunk)
        return pcm16(chunk)


PCM16_16K = WireFormat()


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
    wire: WireFormat = PCM16_16K,
) -> dict[str, Any]:
    """Send ``audio[start_s:stop_s]`` (16 kHz) in real time; returns the ``started`` reply.
    ``start_fields`` go into the start message (e.g. ``language``, ``translate_to``); ``wire``
    sends it at another rate and encoding, as browsers and telephony bridges do."""
    url = f"{ws_url}/ws/meeting/{meeting_id}/audio"
    async with websockets.connect(url, subprotocols=["bearer", token]) as ws:  # type: ignore[list-item]
        start: dict[str, Any] = {"type": "start", "sample_rate": wire.sample_rate}
        start |= {"encoding": wire.encoding, **(start_fields or {})}
        if session_id:
            start["session_id"] = session_id
        await ws.send(json.dumps(start))
        started: dict[str, Any] = json.loads(await ws.recv())
        assert started["type"] == "started", started
        await send_frames(ws, audio, log, start_s, stop_s, wire)
        if finish:
            log.stop_sent_at = time.monotonic()
            await ws.send(json.dumps({"type": "stop"}))
            log.replies.append(json.loads(await asyncio.wait_for(ws.recv(), 300)))
        return started


async def send_frames(
    ws: Any,
    audio: np.ndarray,
    log: StreamLog,
    start_s: float,
    stop_s: float | None,
    wire: WireFormat = PCM16_16K,
) -> None:
    rate = wire.sample_rate
    audio = wire.render(audio)
    frame = int(FRAME_S * rate)
    first = int(start_s * rate)
    last = len(audio) if stop_s is None else min(len(audio), int(stop_s * rate))
    began = time.monotonic()
    for n, offset in enumerate(range(first, last, frame)):
        chunk = audio[offset : min(offset + frame, last)]
        await ws.send(wire.encode(chunk))
        log.sent_at.append(((offset + len(chunk)) / rate, time.monotonic()))
        delay = began + (n + 1) * FRAME_S - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
