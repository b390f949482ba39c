"""Decode uploaded audio into the float32 mono 16 kHz arrays every model expects.

PyAV (FFmpeg) reads any container/codec a browser or phone produces (wav, flac, mp3,
ogg/opus, webm, m4a) without a system ffmpeg binary. Failures become an
:class:`AudioDecodeError` whose ``code`` is the wire error code, so the web layer can answer
400 with a message that says what to do.
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

import av
import numpy as np

from core.types import SAMPLE_RATE

logger = logging.getLogger(__name__)

DecodeErrorCode = Literal["empty_audio", "unsupported_audio", "truncated_audio"]
AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO

# Leading bytes of the containers we accept. A file that starts like audio but cannot be
# opened or decoded is reported as truncated/corrupt rather than as an unsupported format.
_AUDIO_MAGICS: tuple[tuple[int, bytes], ...] = (
    (0, b"RIFF"),  # wav
    (0, b"fLaC"),  # flac
    (0, b"OggS"),  # ogg / opus
    (0, b"ID3"),  # mp3 with ID3 tag
    (0, b"\x1a\x45\xdf\xa3"),  # webm / matroska
    (4, b"ftyp"),  # mp4 / m4a
    (0, b"\xff\xfb"),  # mp3 frame sync (MPEG-1 layer III)
    (0, b"\xff\xf3"),
    (0, b"\xff\xf2"),
)


class AudioDecodeError(Exception):
    """Audio that cannot be turned into samples; ``code`` is the wire error code."""

    def __init__(self, reason: str, code: DecodeErrorCode) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def decode_audio(source: AudioSource, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Decode a path, bytes or binary file object to float32 mono samples at ``sample_rate``.

    Corruption after some audio was decoded is tolerated (the samples so far are returned and a
    warning is logged), because a recording cut short at the end is still worth transcribing.
    A missing path raises ``FileNotFoundError``: that is a storage fault, not bad audio.
    """
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as file:
            return _decode_stream(file, sample_rate)
    if isinstance(source, bytes | bytearray | memoryview):
        return _decode_stream(io.BytesIO(source), sample_rate)
    if not source.seekable():  # FFmpeg probes by seeking back to the start
        return _decode_stream(io.BytesIO(source.read()), sample_rate)
    return _decode_stream(source, sample_rate)


def pcm16_to_float(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Convert little-endian signed 16-bit PCM (the live-audio wire encoding) to float32."""
    raw = memoryview(data).cast("B")
    if len(raw) % 2:
        raise AudioDecodeError(
            f"PCM16 data has an odd number of bytes ({len(raw)}); send whole 16-bit samples.",
            "truncated_audio",
        )
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def _decode_stream(stream: BinaryIO, sample_rate: int) -> np.ndarray:
    start = stream.tell()
    head = stream.read(16)
    stream.seek(start)
    if not head:
        raise AudioDecodeError("The uploaded file is empty (0 bytes).", "empty_audio")
    chunks, errors = _decode_chunks(stream, sample_rate, head)
    if not chunks:
        if errors:
            logger.info("No audio decoded before error: %s", errors[0])
            raise AudioDecodeError(
                "The audio stream could not be decoded; the file looks truncated or corrupt. "
                "Re-export or re-upload the complete recording.",
                "truncated_audio",
            )
        raise AudioDecodeError(
            "The file contains no audio samples. Upload a recording with sound in it.",
            "empty_audio",
        )
    if errors:
        logger.warning("Audio decoded partially; ignored a damaged tail: %s", errors[0])
    return np.concatenate(chunks)


def _looks_like_audio(head: bytes) -> bool:
    return any(head[offset : offset + len(magic)] == magic for offset, magic in _AUDIO_MAGICS)


def _decode_chunks(
    stream: BinaryIO, sample_rate: int, head: bytes
) -> tuple[list[np.ndarray], list[str]]:
    """Decode and resample every audio frame; return the sample chunks and decode errors."""
    try:
        container = av.open(stream, mode="r")
    except (av.error.FFmpegError, ValueError, UnicodeDecodeError) as e:
        raise _open_error(head, e) from e
    chunks: list[np.ndarray] = []
    errors: list[str] = []
    with container:
        if not container.streams.audio:
            raise AudioDecodeError(
                "The file has no audio track. Upload wav, flac, mp3, ogg/opus, webm or m4a.",
                "unsupported_audio",
            )
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        try:
            for frame in _iter_frames(container):
                chunks.extend(_frame_samples(resampler, frame))
        except av.error.FFmpegError as e:
            errors.append(str(e))
        chunks.extend(_frame_samples(resampler, None))  # flush the resampler's buffer
    return [chunk for chunk in chunks if chunk.size], errors


def _open_error(head: bytes, error: Exception) -> AudioDecodeError:
    logger.info("Cannot open audio container: %s", error)
    if _looks_like_audio(head):
        return AudioDecodeError(
            "The audio file is truncated or corrupt. Re-upload the complete file.",
            "truncated_audio",
        )
    return AudioDecodeError(
        "The file is not a supported audio format. Upload wav, flac, mp3, ogg/opus, webm or m4a.",
        "unsupported_audio",
    )


def _iter_frames(container: av.container.InputContainer) -> Iterator[av.AudioFrame]:
    stream = container.streams.audio[0]
    for packet in container.demux(stream):
        yield from packet.decode()


def _frame_samples(resampler: av.AudioResampler, frame: av.AudioFrame | None) -> list[np.ndarray]:
    return [
        out.to_ndarray().reshape(-1).astype(np.float32, copy=False)
        for out in resampler.resample(frame)
    ]
