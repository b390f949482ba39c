"""Speech regions from Silero VAD (the ONNX model bundled in the faster-whisper wheel): over a
whole array (``speech_regions``) or a stream read chunk by chunk (``StreamingVad``)."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

from core.speech_tracker import FRAME_SAMPLES, SpeechFrames, SpeechTracker
from core.types import SAMPLE_RATE

CONTEXT_SAMPLES = 64  # Silero v6 sees the end of the previous frame with each frame


def speech_regions(
    audio: np.ndarray, min_silence_ms: int = 300, threshold: float = 0.5, pad_ms: int = 100
) -> list[tuple[float, float]]:
    """Speech spans in seconds; empty for silence or audio shorter than one VAD frame."""
    if audio.size < 512:
        return []
    options = VadOptions(
        threshold=threshold, min_silence_duration_ms=min_silence_ms, speech_pad_ms=pad_ms
    )
    stamps = get_speech_timestamps(audio, options, sampling_rate=SAMPLE_RATE)
    return [(s["start"] / SAMPLE_RATE, s["end"] / SAMPLE_RATE) for s in stamps]


def score_speech(audio: np.ndarray) -> SpeechFrames:
    """One window's frame probabilities, as ``speech_regions`` scores them (its regions are
    ``score_speech(audio).regions(...)``)."""
    whole = audio.size - audio.size % FRAME_SAMPLES
    frames = np.concatenate([audio[:whole], padded_last_frame(audio, whole)])
    return SpeechFrames(SileroFrames().probabilities(frames), audio.size)


def padded_last_frame(audio: np.ndarray, whole: int) -> np.ndarray:
    """The samples past the last whole frame, zero-padded to a frame: a whole frame of zeros
    when there are none, as faster-whisper always pads one."""
    last = np.zeros(FRAME_SAMPLES, dtype=np.float32)
    last[: audio.size - whole] = audio[whole:]
    return last


def warm_vad() -> None:
    """Load Silero and score one second with it, so the first job does not pay for either."""
    SileroFrames().probabilities(np.zeros(SAMPLE_RATE - SAMPLE_RATE % FRAME_SAMPLES, np.float32))


class SileroFrames:
    """Silero VAD over consecutive 512-sample frames, carrying the LSTM state and each frame's
    64-sample context from one call to the next, exactly as faster-whisper's whole-file call
    does between its batches: the probabilities are bit for bit the whole-file ones."""

    def __init__(self) -> None:
        self._session = get_vad_model().session
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)

    def probabilities(self, audio: np.ndarray, commit: bool = True) -> np.ndarray:
        """One probability per frame of ``audio`` (whole frames). ``commit=False`` scores
        them without moving the state on (a look at frames that will change)."""
        frames = audio.reshape(-1, FRAME_SAMPLES).astype(np.float32, copy=False)
        contexts = np.concatenate([self._context[None, :], frames[:-1, -CONTEXT_SAMPLES:]])
        batch = np.concatenate([contexts, frames], axis=1)
        out, h, c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        if commit:
            self._h, self._c = h, c
            self._context = np.array(frames[-1, -CONTEXT_SAMPLES:])
        return np.asarray(out).reshape(-1)


class StreamingVad:
    """Silero VAD over a stream, chunk by chunk, with the regions ``speech_regions`` would give
    for the whole stream (``core/speech_tracker.py`` says how far they are final).

    The model state is carried between chunks (``SileroFrames``), so the regions are bit for
    bit the whole-file ones; only a sub-frame remainder (< 512 samples) waits for the next
    chunk.
    """

    def __init__(
        self, min_silence_ms: int = 300, threshold: float = 0.5, pad_ms: int = 100
    ) -> None:
        self._frames = SileroFrames()
        self.tracker = SpeechTracker(SAMPLE_RATE, threshold, min_silence_ms, pad_ms)
        self._rest = np.zeros(0, dtype=np.float32)
        self.samples = 0

    def push(self, audio: np.ndarray) -> None:
        """The next samples of the stream (any length)."""
        self.samples += audio.size
        data = np.concatenate([self._rest, audio]) if self._rest.size else audio
        whole = data.size - data.size % FRAME_SAMPLES
        self._rest = np.array(data[whole:], dtype=np.float32)
        if whole:
            self.tracker.push(self._frames.probabilities(data[:whole]))

    def finish(self) -> None:
        """End of stream: the remainder is zero-padded to a frame (a whole extra frame when there
        is none), as faster-whisper pads the whole file."""
        self.tracker.push(self._frames.probabilities(padded_last_frame(self._rest, 0)))
        self._rest = np.zeros(0, dtype=np.float32)
        self.tracker.finish(self.samples)


class BufferVad:
    """``speech_regions`` of a buffer that grows at its end, without running the model over
    all of it at every look.

    A live session looks for an utterance end every 0.15 s over everything buffered since its
    last cut. Silero over the whole buffer cost ~1.3 ms per buffered second per look, on the
    Processor's event loop: quadratic in the utterance's length, and with many live meetings
    the largest share of a Processor's CPU. Here each frame is scored once, with the model
    state carried from the buffer's start, and a look scores only the new whole frames and the
    zero-padded remainder; the decision loop then runs over the kept probabilities with the
    look's own pause and padding. The regions equal ``speech_regions(buffer, ...)``.
    Call :meth:`restart` when samples are dropped from the buffer's front.
    """

    def __init__(self, threshold: float = 0.5) -> None:
        self._threshold = threshold
        self.restart()

    def restart(self) -> None:
        """The buffer now starts somewhere else: score it from its new start."""
        self._frames = SileroFrames()
        self._scored = np.zeros(0, dtype=np.float32)
        self._seen = 0  # samples scored: whole frames from the buffer's start

    def regions(
        self, buffer: np.ndarray, min_silence_ms: int = 300, pad_ms: int = 100
    ) -> list[tuple[float, float]]:
        if buffer.size < self._seen:  # shrunk without a restart: score it afresh
            self.restart()
        if buffer.size < FRAME_SAMPLES:
            return []
        whole = buffer.size - buffer.size % FRAME_SAMPLES
        if whole > self._seen:
            new = self._frames.probabilities(buffer[self._seen : whole])
            self._scored = np.concatenate([self._scored, new])
            self._seen = whole
        last = padded_last_frame(buffer, whole)
        tracker = SpeechTracker(SAMPLE_RATE, self._threshold, min_silence_ms, pad_ms)
        tracker.push(self._scored)
        tracker.push(self._frames.probabilities(last, commit=False))
        tracker.finish(buffer.size)
        return tracker.regions()
