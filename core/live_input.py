"""Live audio as clients send it, turned into what a live session takes: 16 kHz mono PCM16.

Browsers capture at 44.1 or 48 kHz in float32, telephony bridges send 8 kHz G.711 (mu-law in
North America and Japan, A-law elsewhere), speech APIs use 24 kHz PCM16. Each live-audio socket
declares its format in ``start``; the Ingress converts every frame as it arrives, so sessions,
resume offsets (``received_s`` is seconds, whatever the format) and the Processor's real-time
check never see anything but 16 kHz PCM16.

The resampler (libswresample through PyAV) keeps its filter state across frames, so the output
is the same however the stream is cut into frames; ``flush`` returns its last few milliseconds
when the connection ends.
"""

from __future__ import annotations

from typing import Literal

import av
import numpy as np

from core.types import SAMPLE_RATE

Encoding = Literal["pcm_s16le", "pcm_f32le", "pcm_mulaw", "pcm_alaw"]
SAMPLE_BYTES: dict[str, int] = {"pcm_s16le": 2, "pcm_f32le": 4, "pcm_mulaw": 1, "pcm_alaw": 1}
# Telephone narrowband up to what browsers capture; anything outside is not a microphone.
MIN_LIVE_RATE = 8_000
MAX_LIVE_RATE = 48_000


def mulaw_table() -> np.ndarray:
    """ITU-T G.711 mu-law byte -> 16-bit sample (the decoder's table, +-32124 at the ends)."""
    code = ~np.arange(256, dtype=np.uint8)
    exponent = (code >> 4) & 0x07
    magnitude = (((code & 0x0F).astype(np.int32) << 3) + 0x84) << exponent
    sample = magnitude - 0x84
    return np.where(code & 0x80, -sample, sample).astype(np.int16)


def alaw_table() -> np.ndarray:
    """ITU-T G.711 A-law byte -> 16-bit sample (+-32256 at the ends)."""
    code = np.arange(256, dtype=np.uint8) ^ 0x55
    exponent = ((code >> 4) & 0x07).astype(np.int32)
    mantissa = (code & 0x0F).astype(np.int32)
    shifted = ((mantissa << 4) + 0x108) << np.maximum(exponent - 1, 0)
    sample = np.where(exponent == 0, (mantissa << 4) + 8, shifted)
    return np.where(code & 0x80, sample, -sample).astype(np.int16)


_TABLES = {"pcm_mulaw": mulaw_table(), "pcm_alaw": alaw_table()}


def to_int16(samples: bytes, encoding: str) -> np.ndarray:
    """Whole samples of ``encoding`` as 16-bit PCM; float input is made finite and clipped
    (a NaN from a hostile or broken client must not reach the models)."""
    if encoding == "pcm_s16le":
        return np.frombuffer(samples, dtype="<i2").astype(np.int16)
    if encoding == "pcm_f32le":
        floats = np.nan_to_num(
            np.frombuffer(samples, dtype="<f4"), nan=0.0, posinf=1.0, neginf=-1.0
        )
        return (np.clip(floats, -1.0, 1.0) * 32767).astype(np.int16)
    return _TABLES[encoding][np.frombuffer(samples, dtype=np.uint8)]


class LiveInputConverter:
    """One connection's frames, in its declared format, to 16 kHz mono PCM16 bytes."""

    def __init__(self, sample_rate: int, encoding: str) -> None:
        if not MIN_LIVE_RATE <= sample_rate <= MAX_LIVE_RATE or encoding not in SAMPLE_BYTES:
            raise ValueError(f"unsupported live audio: {sample_rate} Hz {encoding}")
        self.sample_rate = sample_rate
        self.encoding = encoding
        self._width = SAMPLE_BYTES[encoding]
        self._partial = bytearray()  # a sample split across frames waits for the next one
        self._resampler = self._new_resampler() if sample_rate != SAMPLE_RATE else None

    @property
    def passthrough(self) -> bool:
        """16 kHz PCM16 in: the bytes go through untouched."""
        return self._resampler is None and self.encoding == "pcm_s16le"

    def convert(self, data: bytes) -> bytes:
        self._partial += data
        end = len(self._partial) - len(self._partial) % self._width
        whole = bytes(self._partial[:end])
        del self._partial[:end]
        if not whole:
            return b""
        samples = to_int16(whole, self.encoding)
        if self._resampler is None:
            return samples.astype("<i2").tobytes()
        return self._resample(samples)

    def flush(self) -> bytes:
        """The resampler's last output once the connection ends (empty when not resampling)."""
        if self._resampler is None:
            return b""
        tail = _pcm16(self._resampler.resample(None))
        self._resampler = self._new_resampler()  # never reused mid-stream: a fresh state
        return tail

    def _resample(self, samples: np.ndarray) -> bytes:
        frame = av.AudioFrame.from_ndarray(samples[None, :], format="s16", layout="mono")
        frame.sample_rate = self.sample_rate
        assert self._resampler is not None
        return _pcm16(self._resampler.resample(frame))

    @staticmethod
    def _new_resampler() -> av.AudioResampler:
        return av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)


def _pcm16(frames: list[av.AudioFrame]) -> bytes:
    return b"".join(frame.to_ndarray().astype("<i2").tobytes() for frame in frames)
