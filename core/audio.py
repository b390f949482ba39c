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

from core.audio_formats import (
    SIGNATURE_BYTES,
    SUPPORTED_FORMATS_TEXT,
    DecodeLimits,
    looks_like_audio,
)
from core.dc_blocker import DcBlocker
from core.downmix import StereoDownmix
from core.types import SAMPLE_RATE

logger = logging.getLogger(__name__)
# The first open's probe (_open_container); FFmpeg's own default is 5 MB
SHORT_PROBE_BYTES = 4096
DC_BLOCK_SAMPLES = 8000  # half a second at the model rate: see _MonoResampler
# What av.open raises for a file it cannot read as a container (mapped by _open_error)
_OPEN_ERRORS = (av.error.FFmpegError, ValueError, UnicodeDecodeError)

DecodeErrorCode = Literal[
    "empty_audio", "unsupported_audio", "truncated_audio", "audio_too_long", "bad_sample_rate"
]
AudioSource = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO


class AudioDecodeError(Exception):
    """Audio that cannot be turned into samples; ``code`` is the wire error code."""

    def __init__(self, reason: str, code: DecodeErrorCode) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def decode_audio(
    source: AudioSource, sample_rate: int = SAMPLE_RATE, limits: DecodeLimits | None = None
) -> np.ndarray:
    """Decode a path, bytes or binary file object to float32 mono samples at ``sample_rate``.

    ``limits`` are enforced before and while decoding: an absurd declared sample rate or
    channel count is refused before the first frame, and decoding stops (``audio_too_long``) the
    moment the output passes ``max_duration_s``, so a small file that expands to hours of audio
    never holds more than the limit in memory.

    Corruption after some audio was decoded is tolerated (the samples so far are returned and a
    warning is logged), because a recording cut short at the end is still worth transcribing.
    A missing path raises ``FileNotFoundError``: that is a storage fault, not bad audio.
    Long recordings should be read piece by piece with :class:`AudioReader` instead.
    """
    return _join(list(AudioReader(source, sample_rate, limits)))


class AudioReader:
    """The decoded samples of a source, block by block, as :func:`decode_audio` checks them.

    Iterating yields float32 mono arrays (about half a second each, the last one any size) and
    never holds more than one block and one codec frame: the uploads pipeline reads hours of
    audio through it in bounded memory (``core/audio_stream.py``). The same errors as
    :func:`decode_audio` are raised, at the point of iteration where they are found: format and
    declared-duration problems before the first array, ``audio_too_long`` as soon as the output
    passes the limit. ``declared_s`` is the sum of the packets' durations (an estimate of the
    length) once the first array is out.
    """

    def __init__(
        self,
        source: AudioSource,
        sample_rate: int = SAMPLE_RATE,
        limits: DecodeLimits | None = None,
    ) -> None:
        self.source = source
        self.sample_rate = sample_rate
        self.limits = limits or DecodeLimits()
        self.declared_s: float | None = None
        self.samples = 0  # decoded so far

    def __iter__(self) -> Iterator[np.ndarray]:
        source = self.source
        if isinstance(source, str | os.PathLike):
            with Path(source).open("rb") as file:
                yield from self._decode_stream(file)
        elif isinstance(source, bytes | bytearray | memoryview):
            yield from self._decode_stream(io.BytesIO(source))
        elif not source.seekable():  # FFmpeg probes by seeking back to the start
            yield from self._decode_stream(io.BytesIO(source.read()))
        else:
            yield from self._decode_stream(source)

    def _decode_stream(self, stream: BinaryIO) -> Iterator[np.ndarray]:
        start = stream.tell()
        head = stream.read(SIGNATURE_BYTES)
        stream.seek(start)
        if not head:
            raise AudioDecodeError("The uploaded file is empty (0 bytes).", "empty_audio")
        errors: list[str] = []
        yield from self._decode_frames(stream, head, errors)
        if not self.samples:
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

    def _decode_frames(
        self, stream: BinaryIO, head: bytes, errors: list[str]
    ) -> Iterator[np.ndarray]:
        """Decode and resample every audio frame; decode errors end the stream into ``errors``."""
        limits = self.limits
        start = stream.tell()
        with _open_container(stream, head) as container:
            _check_declared(container, limits)
            self.declared_s = _check_packet_duration(container, limits)
        stream.seek(start)
        with _open_container(stream, head) as container:
            resampler = _MonoResampler(self.sample_rate)
            try:
                for frame in _iter_frames(container):
                    _check_frame(frame, limits)
                    yield from self._bounded(resampler.samples(frame))
            # ValueError: the resampler refuses a frame whose rate or layout changed mid-stream.
            except (av.error.FFmpegError, ValueError) as e:
                errors.append(str(e))
            try:  # flush the resampler's buffer; it fails again if it never got configured
                flushed = resampler.samples(None)
            except (av.error.FFmpegError, ValueError) as e:
                errors.append(str(e))
                flushed = resampler.held()
            yield from self._bounded(flushed)

    def _bounded(self, chunks: list[np.ndarray]) -> Iterator[np.ndarray]:
        """Count the output and refuse to go past ``max_duration_s``."""
        max_samples = int(self.limits.max_duration_s * self.sample_rate)
        for chunk in chunks:
            if not chunk.size:
                continue
            self.samples += chunk.size
            if self.samples > max_samples:
                raise AudioDecodeError(self.limits.too_long_text(), "audio_too_long")
            yield chunk


def probe_audio(path: str | os.PathLike[str], limits: DecodeLimits | None = None) -> None:
    """Open ``path`` and check its declared format and packet durations against ``limits``
    without decoding a frame (demuxing only reads packet headers; a 1 GB file takes seconds).

    The Ingress calls this after an upload lands on disk, so a file past a bound gets a 400 at
    once instead of a failed job later. Only bounds are checked here: a file that cannot be
    opened is left to the decoder, which reports it as the job's error. Raises
    :class:`AudioDecodeError`.
    """
    limits = limits or DecodeLimits()
    with Path(path).open("rb") as file:
        head = file.read(SIGNATURE_BYTES)
        file.seek(0)
        if not head:
            raise AudioDecodeError("The uploaded file is empty (0 bytes).", "empty_audio")
        try:
            container = _open_container(file, head)
        except AudioDecodeError:
            return  # unreadable files are the decoder's to report (a job error, as before)
        with container:
            _check_declared(container, limits)
            _check_packet_duration(container, limits)


def pcm16_to_float(data: bytes | bytearray | memoryview) -> np.ndarray:
    """Convert little-endian signed 16-bit PCM (the live-audio wire encoding) to float32."""
    raw = memoryview(data).cast("B")
    if len(raw) % 2:
        raise AudioDecodeError(
            f"PCM16 data has an odd number of bytes ({len(raw)}); send whole 16-bit samples.",
            "truncated_audio",
        )
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0


def whole_samples(pending: bytearray) -> bytes:
    """Remove and return the whole 16-bit samples at the front of ``pending``.

    Frames from a network client may split a sample; the odd byte stays in ``pending`` and
    joins the next frame, so no sample is ever misaligned and none is lost.
    """
    end = len(pending) - len(pending) % 2
    chunk = bytes(pending[:end])
    del pending[:end]
    return chunk


def _join(chunks: list[np.ndarray]) -> np.ndarray:
    """Concatenate while releasing each chunk as it is copied: the output's pages are only
    touched as they are written, so peak memory stays near one copy, not two."""
    out = np.empty(sum(chunk.size for chunk in chunks), dtype=np.float32)
    offset = 0
    chunks.reverse()
    while chunks:
        chunk = chunks.pop()
        out[offset : offset + chunk.size] = chunk
        offset += chunk.size
    return out


def _open_container(stream: BinaryIO, head: bytes) -> av.container.InputContainer:
    """Open with a short probe first: by default FFmpeg reads up to 5 s of audio to learn the
    streams' parameters (3.3 of the 4.6 ms an upload's probe took for a 1 MB WAV; 0.3 ms with
    the short probe), which most formats state in their header. A container whose audio
    parameters the short probe did not find is opened again with FFmpeg's default."""
    start = stream.tell()
    try:
        container = av.open(stream, mode="r", options={"probesize": str(SHORT_PROBE_BYTES)})
    except _OPEN_ERRORS:
        container = None
    if container is not None:
        if _audio_parameters_known(container):
            return container
        container.close()
    stream.seek(start)
    try:
        container = av.open(stream, mode="r")
    except _OPEN_ERRORS as e:
        raise _open_error(head, e) from e
    if not container.streams.audio:
        container.close()
        raise AudioDecodeError(
            f"The file has no audio track. Upload {SUPPORTED_FORMATS_TEXT}.",
            "unsupported_audio",
        )
    return container


def _audio_parameters_known(container: av.container.InputContainer) -> bool:
    if not container.streams.audio:
        return False
    context = container.streams.audio[0].codec_context
    return bool(context.sample_rate) and bool(context.channels)


def _check_declared(container: av.container.InputContainer, limits: DecodeLimits) -> None:
    """Refuse what the header already says is absurd, before any frame is decoded."""
    context = container.streams.audio[0].codec_context
    _refuse_format(context.sample_rate or 0, context.channels or 0, limits)


def _check_packet_duration(
    container: av.container.InputContainer, limits: DecodeLimits
) -> float | None:
    """Sum the audio packets' durations without decoding them; refuse past the limit.

    Cheap, and it stops the common bomb (hours of silence compressed into a small FLAC or Opus
    file) holding nothing. A container that lies about packet durations still meets the bound
    that :class:`AudioReader` enforces on the decoded output. Returns the summed duration in
    seconds (None when the container has no time base or its packets are damaged).
    """
    stream = container.streams.audio[0]
    if stream.time_base is None:
        return None
    ticks = 0
    limit_ticks = limits.max_duration_s / float(stream.time_base)
    try:
        for packet in container.demux(stream):
            ticks += packet.duration or 0
            if ticks > limit_ticks:
                raise AudioDecodeError(limits.too_long_text(), "audio_too_long")
    except (av.error.FFmpegError, ValueError):
        return None  # damaged packets: decoding reports (or tolerates) them
    return ticks * float(stream.time_base)


def _check_frame(frame: av.AudioFrame, limits: DecodeLimits) -> None:
    # A stream may change rate mid-way (chained ogg, mp3 frames): every frame is checked.
    _refuse_format(frame.sample_rate, len(frame.layout.channels), limits)


def _refuse_format(rate: int, channels: int, limits: DecodeLimits) -> None:
    rate_problem = limits.rate_problem(rate)
    if rate_problem:
        raise AudioDecodeError(rate_problem, "bad_sample_rate")
    channels_problem = limits.channels_problem(channels)
    if channels_problem:
        raise AudioDecodeError(channels_problem, "unsupported_audio")


def _open_error(head: bytes, error: Exception) -> AudioDecodeError:
    logger.info("Cannot open audio container: %s", error)
    if looks_like_audio(head):
        return AudioDecodeError(
            "The audio file is truncated or corrupt. Re-upload the complete file.",
            "truncated_audio",
        )
    return AudioDecodeError(
        f"The file is not a supported audio format. Upload {SUPPORTED_FORMATS_TEXT}.",
        "unsupported_audio",
    )


def _iter_frames(container: av.container.InputContainer) -> Iterator[av.AudioFrame]:
    stream = container.streams.audio[0]
    for packet in container.demux(stream):
        yield from packet.decode()


class _MonoResampler:
    """FFmpeg's resampler to the model rate and float32 mono, without a DC offset. Two channels
    are mixed by :class:`~core.downmix.StereoDownmix` (an inverted channel must not cancel the
    voice); any other count by FFmpeg's downmix, which weights a surround layout's channels
    properly.

    Output comes in blocks of at least ``DC_BLOCK_SAMPLES``: the DC blocker's filter call costs
    the same for 20 ms as for half a second, and codecs hand over 15-50 frames a second (it was
    nearly half of a WAV file's decoding time). The filter carries its state across blocks, so
    the samples are the same as frame by frame."""

    def __init__(self, rate: int) -> None:
        self._rate = rate
        self._resampler: av.AudioResampler | None = None
        self._downmix: StereoDownmix | None = None
        self._dc_blocker = DcBlocker(rate)
        self._held: list[np.ndarray] = []
        self._held_samples = 0

    def samples(self, frame: av.AudioFrame | None) -> list[np.ndarray]:
        """The resampled output of ``frame`` once a block is full (an empty list until then);
        None flushes the resampler and everything held."""
        if self._resampler is None:
            stereo = frame is not None and len(frame.layout.channels) == 2
            self._downmix = StereoDownmix() if stereo else None
            self._resampler = av.AudioResampler(
                format="fltp" if stereo else "flt",
                layout="stereo" if stereo else "mono",
                rate=self._rate,
            )
        for out in self._resampler.resample(frame):
            mono = self._mono(out.to_ndarray())
            self._held.append(mono)
            self._held_samples += mono.size
        if frame is not None and self._held_samples < DC_BLOCK_SAMPLES:
            return []
        return self.held()

    def held(self) -> list[np.ndarray]:
        """What is held, without a DC offset, and nothing held after (also when flushing the
        resampler failed: the samples decoded before it are not lost)."""
        if not self._held_samples:
            return []
        block = self._held[0] if len(self._held) == 1 else np.concatenate(self._held)
        self._held, self._held_samples = [], 0
        return [self._dc_blocker(block)]

    def _mono(self, planes: np.ndarray) -> np.ndarray:
        planes = planes.astype(np.float32, copy=False)
        if self._downmix is None:
            return planes.reshape(-1)
        return self._downmix(planes[0], planes[1])
