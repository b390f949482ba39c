"""Streaming audio into ``WS /ws/meeting/{id}/audio`` at real time, resuming after drops.

Sources (a file played at real time, or a microphone) append mono s16le PCM to one buffer as
it "happens" (16 kHz from a file, the device's own rate from a microphone: the server
resamples); the sender sends whatever lies beyond its position. After a dropped
connection it reconnects with its ``session_id`` and resends from the server's
``received_s``, so nothing is lost or doubled (docs/protocol.md "Live audio in").
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from meetingserve_cli.api import Recording
from meetingserve_cli.config import Credentials
from meetingserve_cli.errors import TRANSCRIPT_EXISTS_HINT, CliError, ExitCode
from meetingserve_cli.room import bearer

SAMPLE_RATE = 16_000
BYTES_PER_SECOND = SAMPLE_RATE * 2
FRAME_BYTES = BYTES_PER_SECOND // 10  # 100 ms frames, well under the 64 KiB frame limit
STOPPED_TIMEOUT_S = 900.0  # the server answers `stop` after the last window and the summary
FATAL_AUDIO_CLOSES: dict[int, tuple[ExitCode, str]] = {
    1003: (ExitCode.REJECTED, "the server did not accept the audio format"),
    1009: (ExitCode.REJECTED, "an audio frame was too large for the server"),
    4400: (ExitCode.REJECTED, "the server refused the start message"),
    4401: (ExitCode.AUTH, "the server refused the token (log in again)"),
    4403: (ExitCode.REJECTED, "only the owner or an editor of the meeting can stream audio"),
    4404: (ExitCode.NOT_FOUND, "meeting not found"),
    4409: (ExitCode.REJECTED, "the meeting is already being processed"),
    4410: (ExitCode.REJECTED, "the live session expired on the server"),
}
SESSION_GONE = 4410


def pcm16(audio: np.ndarray) -> bytes:
    """Float samples in [-1, 1] as little-endian 16-bit PCM."""
    return (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def decode_file(path: Path) -> bytes:
    """Any audio/video file FFmpeg reads, as 16 kHz mono s16le PCM."""
    from core.audio import AudioDecodeError, decode_audio

    try:
        return pcm16(decode_audio(path, SAMPLE_RATE))
    except AudioDecodeError as e:
        raise CliError(f"Cannot decode {path}: {e}", ExitCode.USAGE) from e


def refusal(error: dict[str, Any]) -> str:
    code = error.get("code")
    if code == "transcript_exists":
        return TRANSCRIPT_EXISTS_HINT
    return f"{error.get('error')} ({code})"


@dataclass
class AudioBuffer:
    """Everything captured so far; ``done`` once the source has ended."""

    data: bytearray = field(default_factory=bytearray)
    done: bool = False
    grew: asyncio.Event = field(default_factory=asyncio.Event)

    def append(self, chunk: bytes) -> None:
        self.data += chunk
        self.grew.set()

    def finish(self) -> None:
        self.done = True
        self.grew.set()


async def play_file(pcm: bytes, buffer: AudioBuffer) -> None:
    """Append ``pcm`` at real-time speed (the server refuses audio faster than that)."""
    began = time.monotonic()
    for offset in range(0, len(pcm), FRAME_BYTES):
        end = min(offset + FRAME_BYTES, len(pcm))
        due = began + end / BYTES_PER_SECOND
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        buffer.append(pcm[offset:end])
    buffer.finish()


class LiveStreamer:
    def __init__(
        self,
        credentials: Credentials,
        meeting_id: str,
        notice: Callable[[str], None],
        recording: Recording | None = None,
        reconnect_for_s: float = 120.0,
        sample_rate: int = SAMPLE_RATE,
    ) -> None:
        self._credentials = credentials
        self._rate = sample_rate  # of the PCM16 in the buffer; 8-48 kHz (the server resamples)
        self._frame_bytes = sample_rate // 10 * 2
        self._recording = recording or Recording()
        query = "?replace=true" if self._recording.replace else ""
        self._url = f"{credentials.ws_base}/ws/meeting/{meeting_id}/audio{query}"
        self._notice = notice
        self._reconnect_for_s = reconnect_for_s
        self.session_id: str | None = None
        self.job_id: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.resent_bytes = 0  # audio sent twice because a connection dropped
        self._high_water = 0  # furthest byte offset ever sent
        self._stop_sent = False

    async def run(self, start_source: Callable[[AudioBuffer], Any]) -> dict[str, Any]:
        """Stream until the source ends and the server says ``stopped``; returns that reply."""
        buffer = AudioBuffer()
        source: asyncio.Task[Any] | None = None
        outage: float | None = None
        try:
            while True:
                try:
                    async with connect(
                        self._url, subprotocols=bearer(self._credentials.require_token())
                    ) as ws:
                        sent = await self._start(ws)
                        outage = None
                        if source is None:  # the clock starts with the session
                            source = asyncio.create_task(start_source(buffer))
                        return await self._send(ws, buffer, sent)
                except ConnectionClosed as e:
                    code = e.rcvd.code if e.rcvd is not None else None
                    if code == SESSION_GONE and self._stop_sent:
                        return {}  # the server finished the session after our stop
                    if code in FATAL_AUDIO_CLOSES:
                        exit_code, message = FATAL_AUDIO_CLOSES[code]
                        raise CliError(f"Live audio: {message}", exit_code) from e
                    reason = f"closed ({code})"
                except (OSError, InvalidHandshake, TimeoutError) as e:
                    reason = type(e).__name__
                outage = outage or time.monotonic()
                if time.monotonic() - outage > self._reconnect_for_s:
                    raise CliError("Live audio: the connection did not come back", ExitCode.SERVER)
                self._notice(f"Audio connection lost ({reason}); resuming the session")
                await asyncio.sleep(1.0)
        finally:
            if source is not None:
                source.cancel()

    async def _start(self, ws: ClientConnection) -> int:
        """Send ``start`` (with the session to resume); returns the byte offset to send from."""
        start: dict[str, Any] = {"type": "start", "sample_rate": self._rate}
        start["encoding"] = "pcm_s16le"
        if self.session_id:
            start["session_id"] = self.session_id
        else:  # the session keeps the settings it started with
            start.update(self._recording.languages.fields())
        await ws.send(json.dumps(start))
        started = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if started.get("type") == "error":  # refused: a language no model writes, ...
            raise CliError(f"Live audio: {refusal(started)}", ExitCode.REJECTED)
        if started.get("type") != "started":
            raise CliError(f"Live audio: unexpected reply {started.get('type')}", ExitCode.SERVER)
        self.session_id = str(started["session_id"])
        if not self.job_id.done():
            self.job_id.set_result(str(started["job_id"]))
        return round(float(started.get("received_s", 0)) * self._rate) * 2

    async def _send(self, ws: ClientConnection, buffer: AudioBuffer, sent: int) -> dict[str, Any]:
        self.resent_bytes += max(0, self._high_water - sent)
        while True:
            while sent < len(buffer.data):
                end = min(sent + self._frame_bytes, len(buffer.data))
                await ws.send(bytes(buffer.data[sent:end]))
                sent = end
                self._high_water = max(self._high_water, sent)
            if buffer.done:
                break
            buffer.grew.clear()
            await buffer.grew.wait()
        await ws.send(json.dumps({"type": "stop"}))
        self._stop_sent = True
        async with asyncio.timeout(STOPPED_TIMEOUT_S):
            async for raw in ws:
                if isinstance(raw, str) and json.loads(raw).get("type") == "stopped":
                    reply: dict[str, Any] = json.loads(raw)
                    return reply
        raise OSError("the server closed the audio socket before `stopped`")
