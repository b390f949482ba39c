from __future__ import annotations

import io
import wave
from pathlib import Path

import av
import numpy as np
import pytest

import core.audio as audio_module
from core.audio import AudioDecodeError, decode_audio, pcm16_to_float
from core.dc_blocker import DcBlocker

SOURCE_RATE = 22_050
TONE_HZ = 440.0


def _tone(seconds: float = 2.0, rate: int = SOURCE_RATE) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)


def _encode(fmt: str, codec: str, rate: int, layout: str = "mono") -> bytes:
    """Encode a 440 Hz tone with PyAV; the encoder converts the s16 frame to its own format."""
    samples = (_tone() * 32767).astype(np.int16)
    channels = 2 if layout == "stereo" else 1
    # Packed s16 interleaves channels: shape (1, samples * channels).
    data = np.repeat(samples, channels)[None, :]
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        assert isinstance(stream, av.audio.stream.AudioStream)
        stream.layout = layout
        frame = av.AudioFrame.from_ndarray(data, format="s16", layout=layout)
        frame.sample_rate = SOURCE_RATE
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return buf.getvalue()


def _blocked(samples: np.ndarray) -> np.ndarray:
    """What decoding makes of a signal at 16 kHz: the DC blocker shifts a 440 Hz tone's phase by
    0.65 degrees, more than these comparisons' tolerance."""
    return DcBlocker(16_000)(samples)


def _dominant_hz(samples: np.ndarray, rate: int = 16_000) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(samples.size, 1 / rate)[int(np.argmax(spectrum))])


@pytest.mark.parametrize(
    ("fmt", "codec", "rate", "tolerance"),
    [
        ("wav", "pcm_s16le", SOURCE_RATE, 1),
        ("flac", "flac", SOURCE_RATE, 1),
        ("ogg", "libopus", 48_000, 800),
        ("webm", "libopus", 48_000, 800),
        ("mp3", "libmp3lame", SOURCE_RATE, 1500),
        ("ipod", "aac", SOURCE_RATE, 2100),  # m4a; AAC adds priming samples
    ],
)
def test_decodes_common_formats_to_16k_mono(
    fmt: str, codec: str, rate: int, tolerance: int
) -> None:
    samples = decode_audio(_encode(fmt, codec, rate))
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert abs(samples.size - 32_000) <= tolerance
    assert abs(_dominant_hz(samples) - TONE_HZ) < 2.0
    assert 0.25 < float(np.abs(samples).max()) < 0.4


def test_lossless_decode_matches_resampled_source() -> None:
    samples = decode_audio(_encode("wav", "pcm_s16le", SOURCE_RATE))
    expected = _blocked(_tone(2.0, 16_000))
    # Away from the resampler's edge effects the waveform is the tone itself.
    np.testing.assert_allclose(samples[1000:-1000], expected[1000:-1000], atol=2e-3)


def test_stereo_is_mixed_to_mono() -> None:
    samples = decode_audio(_encode("wav", "pcm_s16le", SOURCE_RATE, layout="stereo"))
    assert samples.ndim == 1
    assert samples.size == 32_000


def _wav(channels: np.ndarray) -> bytes:
    """16 kHz 16-bit wav of ``channels`` (shape: channels x samples)."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setparams((len(channels), 2, 16_000, 0, "NONE", "not compressed"))
        wav.writeframes((channels.T * 32767).astype("<i2").tobytes())
    return buf.getvalue()


def _rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2)))


def test_a_channel_in_opposite_polarity_does_not_cancel_the_voice() -> None:
    tone = _tone(2.0, 16_000)
    assert _rms(decode_audio(_wav(np.stack([tone, -tone])))) == pytest.approx(
        _rms(tone) * 1.414, 0.01
    )
    # Ordinary stereo keeps FFmpeg's mix (the sum at -3 dB): same voice in both channels, or a
    # voice in one channel only, or a different voice in each.
    same = decode_audio(_wav(np.stack([tone, tone])))
    assert _rms(same) == pytest.approx(_rms(tone) * 1.414, 0.01)
    one_side = decode_audio(_wav(np.stack([tone, np.zeros_like(tone)])))
    assert _rms(one_side) == pytest.approx(_rms(tone) * 0.707, 0.01)
    other = (0.3 * np.sin(2 * np.pi * 1000 * np.arange(tone.size) / 16_000)).astype(np.float32)
    mixed = decode_audio(_wav(np.stack([tone, other])))
    np.testing.assert_allclose(mixed, _blocked((tone + other) * np.sqrt(0.5)), atol=2e-4)
    # A quieter inverted channel only weakens the voice: the sum stays.
    weak = decode_audio(_wav(np.stack([tone, -0.3 * tone])))
    np.testing.assert_allclose(weak, _blocked(0.7 * tone * np.sqrt(0.5)), atol=2e-4)


def test_surround_uses_ffmpegs_downmix() -> None:
    tone = _tone(2.0, 16_000)
    samples = decode_audio(_wav(np.stack([tone] * 6)))
    assert samples.ndim == 1 and samples.size == tone.size
    assert _rms(samples) > _rms(tone) * 0.5


def test_other_sample_rate() -> None:
    samples = decode_audio(_encode("flac", "flac", SOURCE_RATE), sample_rate=8000)
    assert samples.size == 16_000


def test_path_and_file_object_inputs(tmp_path: Path) -> None:
    data = _encode("flac", "flac", SOURCE_RATE)
    path = tmp_path / "tone.flac"
    path.write_bytes(data)
    from_bytes = decode_audio(data)
    np.testing.assert_array_equal(decode_audio(path), from_bytes)
    np.testing.assert_array_equal(decode_audio(str(path)), from_bytes)
    file = io.BytesIO(data)
    np.testing.assert_array_equal(decode_audio(file), from_bytes)
    assert not file.closed  # the caller's file object stays the caller's


def test_missing_file_is_not_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        decode_audio(tmp_path / "missing.wav")


def _decode_error(source: object) -> AudioDecodeError:
    with pytest.raises(AudioDecodeError) as info:
        decode_audio(source)  # type: ignore[arg-type]
    assert info.value.reason == str(info.value)
    return info.value


def test_empty_inputs(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    for source in (b"", empty, io.BytesIO(b"")):
        assert _decode_error(source).code == "empty_audio"


def test_container_without_samples_is_empty() -> None:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as wav:
        wav.setparams((1, 2, 16_000, 0, "NONE", "not compressed"))
        wav.writeframes(b"")
    header_only = buf.getvalue()
    assert len(header_only) == 44
    error = _decode_error(header_only)
    assert error.code == "empty_audio"
    assert "no audio samples" in error.reason


def test_garbage_is_unsupported() -> None:
    error = _decode_error(b"this is a text file, not audio\n" * 50)
    assert error.code == "unsupported_audio"
    assert "wav, flac, mp3" in error.reason


def test_truncated_header_is_truncated() -> None:
    for fmt, codec, rate in (("flac", "flac", SOURCE_RATE), ("ipod", "aac", SOURCE_RATE)):
        data = _encode(fmt, codec, rate)
        assert _decode_error(data[:30]).code == "truncated_audio"


def test_damaged_tail_keeps_decoded_audio() -> None:
    data = _encode("ogg", "libopus", 48_000)
    samples = decode_audio(data[: len(data) // 2])
    assert 8_000 < samples.size < 24_000


def test_pcm16_to_float() -> None:
    pcm = np.array([0, 16384, -32768, 32767], dtype="<i2").tobytes()
    np.testing.assert_array_equal(
        pcm16_to_float(pcm), np.array([0.0, 0.5, -1.0, 32767 / 32768], dtype=np.float32)
    )
    assert pcm16_to_float(b"").size == 0


def test_pcm16_odd_length_is_truncated() -> None:
    with pytest.raises(AudioDecodeError) as info:
        pcm16_to_float(b"\x00\x01\x02")
    assert info.value.code == "truncated_audio"


@pytest.mark.parametrize(
    ("fmt", "codec", "rate"),
    [("wav", "pcm_s16le", SOURCE_RATE), ("mp3", "libmp3lame", 44_100), ("adts", "aac", 44_100),
     ("mpegts", "mp2", 44_100), ("webm", "libopus", 48_000)],
)  # fmt: skip
def test_the_short_first_probe_decodes_what_ffmpegs_default_probe_does(
    fmt: str, codec: str, rate: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _encode(fmt, codec, rate)
    short = decode_audio(data)
    monkeypatch.setattr(audio_module, "SHORT_PROBE_BYTES", 5_000_000)  # FFmpeg's default
    assert np.array_equal(short, decode_audio(data))


def test_a_container_the_short_probe_leaves_unknown_is_opened_again_in_full(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = _encode("flac", "flac", SOURCE_RATE)
    expected = decode_audio(data)
    looks: list[bool] = []

    def unknown_at_first(container: av.container.InputContainer) -> bool:
        looks.append(True)
        return False  # as if the first open had not found the audio parameters

    monkeypatch.setattr(audio_module, "_audio_parameters_known", unknown_at_first)
    assert np.array_equal(decode_audio(data), expected)
    assert looks  # the short probe was looked at, then the default probe decoded


def test_a_dc_offset_is_removed_while_decoding(tmp_path: Path) -> None:
    offset = np.full(32_000, 0.4, dtype=np.float32)
    tone = _tone(2.0, 16_000)
    path = tmp_path / "offset.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(((tone + offset) * 32767).astype("<i2").tobytes())
    samples = decode_audio(path)
    assert abs(float(samples[2_400:].mean())) < 1e-3
    np.testing.assert_allclose(samples, _blocked(tone + offset), atol=2e-3)


def _frame_by_frame(data: bytes, rate: int = 16_000) -> np.ndarray:
    """Decoding as it was before blocks: resampled and DC-blocked one codec frame at a time."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    dc_blocker, out = DcBlocker(rate), []
    with av.open(io.BytesIO(data)) as container:
        for packet in container.demux(container.streams.audio[0]):
            for frame in packet.decode():
                out += [dc_blocker(o.to_ndarray().reshape(-1)) for o in resampler.resample(frame)]
    out += [dc_blocker(o.to_ndarray().reshape(-1)) for o in resampler.resample(None)]
    return np.concatenate(out)


def test_dc_blocking_in_blocks_gives_the_samples_of_frame_by_frame() -> None:
    data = _encode("ogg", "libopus", 48_000)  # 20 ms frames, resampled to 16 kHz
    arrays = list(audio_module.AudioReader(data))
    assert all(a.size >= audio_module.DC_BLOCK_SAMPLES for a in arrays[:-1])
    assert len(arrays) < 10  # 2 s in blocks, not 100 frames
    np.testing.assert_array_equal(np.concatenate(arrays), _frame_by_frame(data))


def test_a_failed_flush_still_gives_back_the_held_samples() -> None:
    resampler = audio_module._MonoResampler(16_000)
    pcm = (_tone(0.1, 16_000) * 32767).astype(np.int16)[None, :]
    frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
    frame.sample_rate = 16_000
    assert resampler.samples(frame) == []  # 0.1 s: held until a block is full

    class BrokenFlush:
        def resample(self, frame: av.AudioFrame | None) -> list[av.AudioFrame]:
            raise ValueError("flush failed")

    resampler._resampler = BrokenFlush()  # type: ignore[assignment]
    with pytest.raises(ValueError, match="flush failed"):
        resampler.samples(None)
    (held,) = resampler.held()
    assert held.size == 1_600
    assert resampler.held() == []
