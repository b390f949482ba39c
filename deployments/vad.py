"""Speech regions from Silero VAD (the ONNX model bundled in the faster-whisper wheel)."""

from __future__ import annotations

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps

from core.types import SAMPLE_RATE


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
