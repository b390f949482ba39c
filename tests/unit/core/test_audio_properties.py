"""Property-based tests (Hypothesis) for the audio parsers that face the network: the upload
sniffer, the decoder's front (declared format, bounds) and live PCM framing."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.audio import AudioDecodeError, decode_audio, pcm16_to_float, probe_audio, whole_samples
from core.audio_formats import AUDIO_SIGNATURES, DecodeLimits, looks_like_audio

LIMITS = DecodeLimits(max_duration_s=2.0)
CODES = {"empty_audio", "unsupported_audio", "truncated_audio", "audio_too_long", "bad_sample_rate"}


def wav(rate: int, channels: int, bits: int, data: bytes, declared: int | None = None) -> bytes:
    block = max(channels * bits // 8, 1)
    fmt = struct.pack("<HHIIHH", 1, channels, rate, (rate * block) & 0xFFFFFFFF, block, bits)
    size = len(data) if declared is None else declared
    return (
        b"RIFF"
        + struct.pack("<I", (36 + size) & 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", size)
        + data
    )


@given(st.binary(max_size=64))
def test_sniffer_never_raises(head: bytes) -> None:
    assert isinstance(looks_like_audio(head), bool)


@given(st.sampled_from(AUDIO_SIGNATURES), st.binary(max_size=32))
def test_sniffer_accepts_every_signature(signature: tuple[int, bytes], tail: bytes) -> None:
    offset, magic = signature
    head = b"\0" * offset + magic + tail
    assert looks_like_audio(head)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
@example(b"RIFF")
@example(b"fLaC" + b"\0" * 100)
@example(b"\xff\xfb" + b"\0" * 200)
def test_decoder_front_refuses_garbage_with_a_code(data: bytes) -> None:
    try:
        audio = decode_audio(data, limits=LIMITS)
    except AudioDecodeError as e:
        assert e.code in CODES and e.reason
        return
    assert audio.dtype == np.float32 and audio.size <= 2 * 16_000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rate=st.integers(min_value=0, max_value=2**32 - 1),
    channels=st.integers(min_value=0, max_value=300),
    bits=st.sampled_from([8, 16, 24, 32]),
    frames=st.integers(min_value=0, max_value=4000),
    declared=st.none() | st.integers(min_value=0, max_value=2**32 - 1),
)
@example(rate=1, channels=1, bits=8, frames=4000, declared=None)  # the 1 Hz audio bomb
@example(rate=4000, channels=1, bits=8, frames=4000, declared=2**32 - 1)  # lying length
def test_wav_headers_are_bounded_before_and_while_decoding(
    rate: int, channels: int, bits: int, frames: int, declared: int | None
) -> None:
    data = b"\x10" * (frames * max(channels, 1) * bits // 8)
    try:
        audio = decode_audio(wav(rate, channels, bits, data, declared), limits=LIMITS)
    except AudioDecodeError as e:
        assert e.code in CODES
        if not LIMITS.min_sample_rate <= rate <= LIMITS.max_sample_rate and channels:
            assert e.code in {"bad_sample_rate", "unsupported_audio", "truncated_audio"}
        return
    assert LIMITS.min_sample_rate <= rate <= LIMITS.max_sample_rate
    assert audio.size <= LIMITS.max_duration_s * 16_000  # never more than the bound


def test_duration_bound_stops_decoding_past_the_limit(tmp_path: object) -> None:
    data = b"\x80" * (8000 * 5)  # 5 s at 8 kHz, 8-bit
    try:
        decode_audio(wav(8000, 1, 8, data), limits=LIMITS)
    except AudioDecodeError as e:
        assert e.code == "audio_too_long"
        assert "longer than the limit of 2 s" in e.reason
    else:
        raise AssertionError("5 s of audio passed a 2 s bound")
    assert decode_audio(wav(8000, 1, 8, data[:8000])).size == 16_000


def test_probe_refuses_declared_rate_without_decoding(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "bomb.wav"
    path.write_bytes(wav(1, 1, 8, b"\x80" * 20_000))
    try:
        probe_audio(path)
    except AudioDecodeError as e:
        assert e.code == "bad_sample_rate"
    else:
        raise AssertionError("a 1 Hz file passed the probe")


@given(st.lists(st.binary(max_size=50), max_size=30))
def test_pcm_framing_never_splits_a_sample_or_loses_one(frames: list[bytes]) -> None:
    pending = bytearray()
    out = []
    for frame in frames:
        pending += frame
        chunk = whole_samples(pending)
        assert len(chunk) % 2 == 0 and len(pending) <= 1
        out.append(pcm16_to_float(chunk))  # never raises: whole samples only
    stream = b"".join(frames)
    joined = np.concatenate(out) if out else np.zeros(0, np.float32)
    assert joined.size == len(stream) // 2
    assert bytes(pending) == stream[len(stream) - len(stream) % 2 :]
    expected = np.frombuffer(stream[: joined.size * 2], "<i2").astype(np.float32) / 32768.0
    np.testing.assert_array_equal(joined, expected)


def test_probe_leaves_unreadable_files_to_the_decoder(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "cut.flac"
    path.write_bytes(b"fLaC\x00\x00\x00\x22\x10\x00\x10\x00")  # a stream header, cut off
    probe_audio(path)  # no bound is broken; decoding reports truncated_audio as a job error
    try:
        decode_audio(path)
    except AudioDecodeError as e:
        assert e.code == "truncated_audio"
    else:
        raise AssertionError("a cut-off FLAC decoded")
