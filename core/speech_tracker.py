"""Speech regions from a stream of VAD frame probabilities, with what is already settled.

The uploads pipeline runs Silero VAD chunk by chunk (``deployments/vad.py``) instead of over
the whole file, so the regions must come out incrementally and be *the same* as the
whole-file ones: windows are cut from them, and another replica that takes a job over must
plan the same windows. This is faster-whisper's ``get_speech_timestamps`` decision loop (its
defaults ``min_speech_duration_ms=0``, ``max_speech_duration_s=inf``, as
``deployments.vad.speech_regions`` uses it), turned into a step function, plus its padding
pass done as soon as each region's neighbours are known. Its output is checked against the
original in ``tests/unit/core/test_speech_tracker.py``.

``settled_s`` is how far the regions are final: clipped to ``[0, settled_s]``, what
:meth:`SpeechTracker.regions` returns equals what the whole stream will give, whatever audio
follows. The window planner (``core/window_stream.py``) only cuts below it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from core.types import SAMPLE_RATE
from core.windowing import Region

FRAME_SAMPLES = 512  # Silero VAD's frame at 16 kHz


class SpeechTracker:
    """Feed per-frame speech probabilities in order, then :meth:`finish` with the length."""

    def __init__(
        self,
        sample_rate: int = 16_000,
        threshold: float = 0.5,
        min_silence_ms: int = 2000,
        pad_ms: int = 400,
        neg_threshold: float | None = None,
    ) -> None:
        self.sample_rate = sample_rate
        self.threshold = threshold
        self.neg_threshold = max(threshold - 0.15, 0.01) if neg_threshold is None else neg_threshold
        self.min_silence = sample_rate * min_silence_ms / 1000
        self.pad = sample_rate * pad_ms / 1000
        self.frames = 0
        self.finished = False
        self._settled = 0  # the stream's length once finished
        self.first_speech_s: float | None = None
        self._final: list[tuple[int, int]] = []  # padded regions (samples) no later audio changes
        self._tail: tuple[int, int] | None = None  # last closed region: padded start, raw end
        self._open: int | None = None  # raw start of the speech in progress
        self._open_padded: int = 0  # its padded start
        self._temp_end = 0  # candidate end of the speech in progress (0: none)
        # What _begin_speech changed, to undo when the stream's zero padding alone "speaks".
        self._before_open: tuple[tuple[int, int] | None, int, float | None] = (None, 0, None)

    def push(self, probabilities: Iterable[float]) -> None:
        """The next frames' probabilities (one per 512 samples, in order)."""
        for probability in probabilities:
            self._step(float(probability), FRAME_SAMPLES * self.frames)
            self.frames += 1

    def _step(self, p: float, at: int) -> None:
        if p >= self.threshold and self._temp_end:
            self._temp_end = 0
        if p >= self.threshold and self._open is None:
            self._begin_speech(at)
            return
        if p < self.neg_threshold and self._open is not None:
            if not self._temp_end:
                self._temp_end = at
            if at - self._temp_end >= self.min_silence:
                self._end_speech(self._temp_end)

    def _begin_speech(self, start: int) -> None:
        self._before_open = (self._tail, len(self._final), self.first_speech_s)
        self._open = start
        if self._tail is None:
            self._open_padded = int(max(0, start - self.pad))
            self.first_speech_s = self._open_padded / self.sample_rate
            return
        tail_start, tail_end = self._tail
        silence = start - tail_end
        if silence < 2 * self.pad:
            self._final.append((tail_start, tail_end + int(silence // 2)))
            self._open_padded = int(max(0, start - silence // 2))
        else:
            self._final.append((tail_start, int(tail_end + self.pad)))
            self._open_padded = int(max(0, start - self.pad))
        self._tail = None

    def _end_speech(self, end: int) -> None:
        self._tail = (self._open_padded, end)
        self._open = None
        self._temp_end = 0

    def finish(self, total_samples: int) -> None:
        """The stream ended after ``total_samples`` samples (its frames all pushed)."""
        if self._open is not None and self._open >= total_samples:
            # Speech that starts in the padding past the end is dropped (as faster-whisper
            # does), and with it the padding it gave the region before.
            self._tail, kept, self.first_speech_s = self._before_open
            del self._final[kept:]
            self._open = None
        if self._open is not None:
            self._end_speech(total_samples)
        if self._tail is not None:
            tail_start, tail_end = self._tail
            self._final.append((tail_start, int(min(total_samples, tail_end + self.pad))))
            self._tail = None
        if total_samples < FRAME_SAMPLES:  # as speech_regions: too short for one VAD frame
            self._final.clear()
            self.first_speech_s = None
        self.finished = True
        self._settled = total_samples

    @property
    def settled_s(self) -> float:
        return self._settled_samples() / self.sample_rate

    def _settled_samples(self) -> int:
        if self.finished:
            return self._settled
        now = FRAME_SAMPLES * self.frames
        if self._open is not None:  # speech runs at least to its candidate end, or to now
            return self._temp_end or now
        if self._tail is None:  # no speech yet: the next one starts at most ``pad`` before now
            return int(max(0, now - self.pad))
        tail_end = self._tail[1]
        return int(now - self.pad) if now - tail_end >= 2 * self.pad else tail_end

    def regions(self) -> list[Region]:
        """Speech regions in seconds, final up to :attr:`settled_s` (later ones may change)."""
        spans = list(self._final)
        settled = self._settled_samples()
        if self._open is not None:
            spans.append((self._open_padded, settled))
        elif self._tail is not None:
            tail_start, tail_end = self._tail
            done = not self.finished and settled > tail_end
            spans.append((tail_start, int(tail_end + self.pad) if done else tail_end))
        rate = self.sample_rate
        return [(start / rate, end / rate) for start, end in spans]

    def forget_before(self, seconds: float) -> None:
        """Drop final regions that end before ``seconds`` (no window will look there again)."""
        limit = seconds * self.sample_rate
        keep = 0
        while keep < len(self._final) and self._final[keep][1] < limit:
            keep += 1
        del self._final[:keep]


@dataclass(frozen=True, slots=True)
class SpeechFrames:
    """Silero's speech probability for each 512-sample frame of one window, scored from the
    window's first sample with a fresh model state, the last frame zero-padded: exactly what
    ``deployments.vad.speech_regions`` scores. The Processor finds them once per window and
    sends them with it, so the Transcriber and the Diarizer each derive the regions they want
    (their own pause and padding) without running Silero over the window again; on a GPU node
    that takes the VAD off the Transcriber's host."""

    probabilities: np.ndarray  # float32, one per frame
    samples: int  # the window's length

    def regions(
        self, min_silence_ms: int = 300, threshold: float = 0.5, pad_ms: int = 100
    ) -> list[Region]:
        """``speech_regions(window, min_silence_ms, threshold, pad_ms)``, without the model."""
        tracker = SpeechTracker(SAMPLE_RATE, threshold, min_silence_ms, pad_ms)
        tracker.push(self.probabilities)
        tracker.finish(self.samples)
        return tracker.regions()

    def matches(self, audio: np.ndarray) -> None:
        """Raise unless these frames were scored from ``audio`` (by its length)."""
        if self.samples != audio.size:
            raise ValueError(
                f"speech frames of {self.samples} samples sent with {audio.size} of audio"
            )
