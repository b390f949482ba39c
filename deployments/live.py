"""Live microphone sessions: buffer PCM, cut a window at each utterance end, process in order.

Latency follows utterance length: a window is cut as soon as VAD sees a pause after speech
(or at a hard maximum), not on a fixed clock. When processing falls behind, waiting windows are
merged into one (up to Whisper's 30 s horizon) instead of queueing without bound, so lag stays
flat; a client sending faster than real time, or further ahead than the bound, is refused.
"""

from __future__ import annotations

import asyncio
import logging
import time

import numpy as np

from app.db import Database
from app.rooms.hub import HubClient
from core.audio import pcm16_to_float, whole_samples
from core.clips import CLIP_MAX_S
from core.types import SAMPLE_RATE
from core.windowing import Window, WindowOptions, find_utterance_end
from deployments.failures import public_failure
from deployments.pipeline import JobFailedError, JobRecorder, JobState, Models
from deployments.vad import speech_regions

logger = logging.getLogger(__name__)

LIVE_WINDOWS = WindowOptions(target_s=1.5, min_s=0.5, max_s=12.0, search_s=12.0)
MIN_PAUSE_S = 0.4  # a silence this long after speech ends an utterance
VAD_EVERY_S = 0.25  # how much new audio triggers another look for an utterance end
REALTIME_SLACK_S = 10.0  # how far ahead of the wall clock a client may send (network bursts)
MAX_BACKLOG_S = 120.0  # audio waiting for the models before a session is refused


class LiveSessionError(Exception):
    """The session cannot accept more audio; ``code`` becomes the client's close reason."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LiveSession(JobRecorder):
    def __init__(
        self, state: JobState, models: Models, hub: HubClient, db: Database, session_id: str
    ) -> None:
        super().__init__(state, models, hub, db)
        self.session_id = session_id
        self.received = 0  # samples accepted since the session started
        self.detached_at: float | None = None
        self._buffer = np.zeros(0, dtype=np.float32)
        self._carry = bytearray()
        self._buffer_start = 0.0  # meeting time of the buffer's first sample
        self._unchecked = 0  # samples fed since the last VAD look
        self._next_index = 0  # merged windows keep the first one's number; numbers stay unique
        self._pending: list[tuple[Window, np.ndarray]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        self._opened = time.monotonic()
        self._worker: asyncio.Task[None] | None = None

    @property
    def received_s(self) -> float:
        return self.received / SAMPLE_RATE

    async def open(self) -> None:
        await self.start(None)
        await self.status("processing", "transcription", "Live transcription started", None)
        self._worker = asyncio.create_task(self._work(), name=f"live-{self.session_id}")

    def feed(self, pcm: bytes) -> None:
        """Accept a chunk of 16 kHz mono PCM16; may cut one or more windows."""
        self._carry += pcm
        audio = pcm16_to_float(whole_samples(self._carry))  # an odd byte waits for the next chunk
        self._check_rate(len(audio))
        self.received += len(audio)
        self._buffer = np.concatenate([self._buffer, audio])
        self._unchecked += len(audio)
        if self._unchecked >= VAD_EVERY_S * SAMPLE_RATE:
            self._unchecked = 0
            self._cut_utterances()

    async def stop(self) -> None:
        """Flush the last utterance, wait for every window, then summary and ``completed``."""
        if self._stopping:
            return
        self._stopping = True
        if len(self._buffer) and speech_regions(self._buffer):
            self._emit(len(self._buffer) / SAMPLE_RATE)
        self._wake.set()
        if self._worker is not None:
            await self._worker
        await self.finish(self.received_s)

    async def abort(self, message: str, code: str) -> None:
        self._stopping = True
        if self._worker is not None:
            self._worker.cancel()
        await self.fail(message, code)

    def _check_rate(self, samples: int) -> None:
        ahead = (self.received + samples) / SAMPLE_RATE - (time.monotonic() - self._opened)
        if ahead > REALTIME_SLACK_S:
            raise LiveSessionError("too_fast", "Audio is arriving faster than real time")
        backlog = sum(len(audio) for _, audio in self._pending) / SAMPLE_RATE
        if backlog > MAX_BACKLOG_S:
            raise LiveSessionError("overloaded", "Transcription cannot keep up; try again later")

    def _cut_utterances(self) -> None:
        while True:
            regions = speech_regions(self._buffer, min_silence_ms=int(MIN_PAUSE_S * 1000))
            cut = find_utterance_end(
                regions, len(self._buffer) / SAMPLE_RATE, MIN_PAUSE_S, LIVE_WINDOWS
            )
            if cut is None:
                return
            if regions and regions[0][0] < cut:
                self._emit(cut)
            else:
                self._drop(cut)  # silence only: nothing to transcribe

    def _emit(self, cut_s: float) -> None:
        samples = int(cut_s * SAMPLE_RATE)
        window = Window(
            self._next_index, self._buffer_start, self._buffer_start + samples / SAMPLE_RATE
        )
        self._next_index += 1
        self._pending.append((window, self._buffer[:samples]))
        self._drop(cut_s)
        self._wake.set()

    def _drop(self, cut_s: float) -> None:
        samples = int(cut_s * SAMPLE_RATE)
        self._buffer = self._buffer[samples:]
        self._buffer_start += samples / SAMPLE_RATE

    async def _work(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._pending:
                    window, audio = self._next_window()
                    await self.publish_window(await self.run_window(audio, window))
                    lag = round(self.received_s - window.end, 3)
                    await self.status(
                        "processing",
                        "transcription",
                        "Transcribed live audio",
                        None,
                        window=window.index,
                        lag_s=lag,
                        audio_end_s=round(window.end, 3),
                    )
                if self._stopping:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as e:
            logger.exception("live session %s failed", self.session_id)
            raise JobFailedError(*public_failure(e)) from e

    def _next_window(self) -> tuple[Window, np.ndarray]:
        """The oldest waiting window, merged with the ones after it when we are behind."""
        window, audio = self._pending.pop(0)
        parts = [audio]
        end = window.end
        while self._pending and self._pending[0][0].end - window.start <= CLIP_MAX_S:
            following, more = self._pending.pop(0)
            gap = round((following.start - end) * SAMPLE_RATE)
            parts.extend([np.zeros(max(gap, 0), dtype=np.float32), more])
            end = following.end
        return Window(window.index, window.start, end), np.concatenate(parts)
