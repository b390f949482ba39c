"""Speech regions from Silero VAD (the ONNX model bundled in the faster-whisper wheel): over a
whole array (``speech_regions``) or a stream read chunk by chunk (``StreamingVad``)."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

from core.speech_tracker import FRAME_SAMPLES, SpeechTracker
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


class StreamingVad:
    """Silero VAD over a stream, chunk by chunk, with the regions ``speech_regions`` would give
    for the whole stream (``core/speech_tracker.py`` says how far they are final).

    The model carries its LSTM state and each frame's 64-sample context from one call to the
    next, exactly as faster-whisper's whole-file call does between its batches, so the frame
    probabilities (and the regions) are bit for bit the whole-file ones; only a sub-frame
    remainder (< 512 samples) waits for the next chunk.
    """

    def __init__(
        self, min_silence_ms: int = 300, threshold: float = 0.5, pad_ms: int = 100
    ) -> None:
        self._session = get_vad_model().session
        self.tracker = SpeechTracker(SAMPLE_RATE, threshold, min_silence_ms, pad_ms)
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._rest = np.zeros(0, dtype=np.float32)
        self.samples = 0

    def push(self, audio: np.ndarray) -> None:
        """The next samples of the stream (any length)."""
        self.samples += audio.size
        data = np.concatenate([self._rest, audio]) if self._rest.size else audio
        whole = data.size - data.size % FRAME_SAMPLES
        self._rest = np.array(data[whole:], dtype=np.float32)
        if whole:
            self.tracker.push(self._probabilities(data[:whole]))

    def finish(self) -> None:
        """End of stream: the remainder is zero-padded to a frame (a whole extra frame when there
        is none), as faster-whisper pads the whole file."""
        pad = np.zeros(FRAME_SAMPLES - self._rest.size, dtype=np.float32)
        self.tracker.push(self._probabilities(np.concatenate([self._rest, pad])))
        self._rest = np.zeros(0, dtype=np.float32)
        self.tracker.finish(self.samples)

    def _probabilities(self, audio: np.ndarray) -> np.ndarray:
        frames = audio.reshape(-1, FRAME_SAMPLES).astype(np.float32, copy=False)
        contexts = np.concatenate([self._context[None, :], frames[:-1, -CONTEXT_SAMPLES:]])
        batch = np.concatenate([contexts, frames], axis=1)
        self._context = np.array(frames[-1, -CONTEXT_SAMPLES:])
        out, self._h, self._c = self._session.run(
            None, {"input": batch, "h": self._h, "c": self._c}
        )
        return np.asarray(out).reshape(-1)
