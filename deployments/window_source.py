"""An upload's windows, planned while the file is decoded, each with its own audio.

The Processor used to decode the whole file, run VAD over all of it and plan every window
before window 0 could start: a 6-hour upload held ~1.4 GB of float32, and a 21-minute one
waited ~4 s. Here the file is decoded in fixed chunks (``core/audio_stream.py``), each chunk
goes through Silero VAD with the model state carried over (``deployments/vad.py``), and a
window is handed out as soon as its cut is certain (``core/window_stream.py``): about
``max_s + min_s`` (55 s) of audio past its start. Only the samples from the oldest window not
yet handed out to the newest chunk are held, so memory per job does not grow with the file.

The windows (and the regions they are cut from) are exactly those the whole-file plan gives,
for any chunk size: the same file always yields the same windows, which a replica taking a
job over relies on. The decoding limits are the whole-file decoder's (``core/audio.py``): a
declared duration past the limit fails before the first window; a container that lies about
its length fails with the same ``audio_too_long`` once the decoded audio passes the limit.

Iteration is blocking (decode and VAD are CPU work): the pipeline calls :meth:`next_window`,
which runs one step in a worker thread, never on the event loop. The Processor gives every
job's source the same small executor (``ProcessorArgs.audio_threads``), apart from the default
one its database hand-offs use: a burst of uploads then neither queues a job's writes behind
other jobs' decoding nor takes more cores than that from the sockets' processes.

Each window handed out carries its own VAD frames (``SpeechFrames``), scored once here for
the Transcriber and the Diarizer, which would otherwise each run Silero over it again
(``ProcessorArgs.window_speech``).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Generator, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np

from core.audio import AudioReader, AudioSource
from core.audio_formats import DecodeLimits
from core.audio_stream import SampleBuffer, fixed_chunks
from core.speech_tracker import SpeechFrames
from core.types import SAMPLE_RATE
from core.window_stream import WindowPlanner
from core.windowing import Window, WindowOptions
from deployments.metrics import record_stage_latency
from deployments.vad import StreamingVad, score_speech

logger = logging.getLogger(__name__)

CHUNK_SAMPLES = 160 * 512  # 5.12 s: whole VAD frames, small next to a window's lookahead


@dataclass(frozen=True, slots=True)
class PlannedWindow:
    window: Window
    audio: np.ndarray  # the window's own samples (a copy)
    # True when VAD found no speech anywhere in the file up to this window's end
    before_speech: bool
    # The window's own VAD frames for the models (None: before the speech, or not asked for)
    speech: SpeechFrames | None = None


class WindowSource:
    """Iterate to get the file's :class:`PlannedWindow` s in order (blocking)."""

    def __init__(
        self,
        source: AudioSource,
        options: WindowOptions,
        limits: DecodeLimits,
        chunk_samples: int = CHUNK_SAMPLES,
        executor: Executor | None = None,
        window_speech: bool = True,
    ) -> None:
        self.reader = AudioReader(source, SAMPLE_RATE, limits)
        self.planner = WindowPlanner(options)
        self.chunk_samples = chunk_samples
        self.duration_s: float | None = None  # known once the file is decoded to its end
        self.windows_total: int | None = None  # likewise
        self.peak_held_samples = 0
        self.decode_s = 0.0
        self.vad_s = 0.0
        self._buffer = SampleBuffer()
        self._vad: StreamingVad | None = None
        self._steps: Generator[PlannedWindow, None, None] | None = None
        self._recorded = False
        self._executor = executor  # None: the event loop's default executor
        self._window_speech = window_speech

    @property
    def declared_s(self) -> float | None:
        """The container's packet durations summed (before decoding), when it tells them."""
        return self.reader.declared_s

    @property
    def speech_found(self) -> bool:
        return self._vad is not None and self._vad.tracker.first_speech_s is not None

    def __iter__(self) -> Iterator[PlannedWindow]:
        if self._steps is None:
            self._steps = self._plan()
        return self._steps

    async def next_window(self) -> PlannedWindow | None:
        """The next window, decoded and planned in a worker thread; None after the last."""
        step = functools.partial(contextvars.copy_context().run, next, iter(self), None)
        # copy_context: the job's log fields reach lines logged while decoding (to_thread's way)
        planned = await asyncio.get_running_loop().run_in_executor(self._executor, step)
        if planned is None and not self._recorded:
            self._recorded = True
            self._record_stages()
        return planned

    def close(self) -> None:
        """Stop decoding (closes the file); call when the job ends early."""
        if self._steps is None:
            return
        try:
            self._steps.close()
        except ValueError:  # a worker thread is still in a step: it ends with the generator
            logger.info("window source closed while decoding; the step in flight finishes")

    def _plan(self) -> Generator[PlannedWindow, None, None]:
        self._vad = vad = StreamingVad()
        tracker, planner = vad.tracker, self.planner
        for chunk in self._chunks():
            self._buffer.append(chunk)
            self.peak_held_samples = max(self.peak_held_samples, self._buffer.held)
            started = time.perf_counter()
            vad.push(chunk)
            self.vad_s += time.perf_counter() - started
            decoded_s = self._buffer.end / SAMPLE_RATE
            ready = planner.advance(tracker.regions(), tracker.settled_s, decoded_s)
            yield from self._hand_out(ready)
        vad.finish()
        self.duration_s = self._buffer.end / SAMPLE_RATE
        last = planner.finish(tracker.regions(), self.duration_s)
        self.windows_total = planner.planned
        yield from self._hand_out(last)

    def _chunks(self) -> Iterator[np.ndarray]:
        """Fixed-size chunks of the decoded file, timing the decode."""
        chunks = fixed_chunks(self.reader, self.chunk_samples)
        while True:
            started = time.perf_counter()
            chunk = next(chunks, None)
            self.decode_s += time.perf_counter() - started
            if chunk is None:
                return
            yield chunk

    def _hand_out(self, windows: list[Window]) -> Iterator[PlannedWindow]:
        assert self._vad is not None
        tracker = self._vad.tracker
        for window in windows:
            span = window.sample_slice(SAMPLE_RATE)
            audio = self._buffer.take(span.start, span.stop)
            first_speech = tracker.first_speech_s
            before_speech = first_speech is None or first_speech >= window.end
            self._buffer.forget_before(span.stop)
            tracker.forget_before(window.end)
            yield PlannedWindow(window, audio, before_speech, self._speech(audio, before_speech))

    def _speech(self, audio: np.ndarray, before_speech: bool) -> SpeechFrames | None:
        """The window scored on its own (not the stream's frames: those carry the model state
        over from the audio before the window and sit on another frame grid, which moves region
        edges by a frame and now and then splits or merges a region), so the models get exactly
        the regions they would find themselves."""
        if before_speech or not self._window_speech:
            return None
        started = time.perf_counter()
        speech = score_speech(audio)
        self.vad_s += time.perf_counter() - started
        return speech

    def _record_stages(self) -> None:
        """Decode and VAD time of the whole file, as the stage metrics always counted them
        (recorded on the event loop, once the file is read to its end)."""
        record_stage_latency("decode", self.decode_s)
        record_stage_latency("windowing", self.vad_s)
        logger.info(
            "decoded %.1f s in %.2f s (VAD %.2f s), %d windows, at most %.1f s of audio held",
            self.duration_s or 0.0,
            self.decode_s,
            self.vad_s,
            self.windows_total or 0,
            self.peak_held_samples / SAMPLE_RATE,
        )
