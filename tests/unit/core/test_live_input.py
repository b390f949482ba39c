"""Live audio formats to 16 kHz PCM16: G.711 tables, resampling, frames cut anywhere."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from core.live_input import LiveInputConverter, alaw_table, mulaw_table, to_int16

with warnings.catch_warnings():  # deprecated in 3.11, the reference decoder for the test only
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def tone(rate: int, seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(round(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def peak_hz(pcm16: bytes, rate: int = 16_000) -> float:
    samples = np.frombuffer(pcm16, dtype="<i2")[500:-500].astype(np.float64)
    return float(np.argmax(np.abs(np.fft.rfft(samples)))) * rate / len(samples)


def test_g711_tables_match_the_reference_decoder() -> None:
    every_byte = bytes(range(256))
    assert np.array_equal(mulaw_table(), np.frombuffer(audioop.ulaw2lin(every_byte, 2), "<i2"))
    assert np.array_equal(alaw_table(), np.frombuffer(audioop.alaw2lin(every_byte, 2), "<i2"))
    # G.711's own end points: mu-law 0x00/0x80 are -/+32124, 0xFF silence; A-law 0xD5 is +8
    assert mulaw_table()[[0x00, 0x80, 0xFF]].tolist() == [-32124, 32124, 0]
    assert alaw_table()[[0xD5, 0x55, 0xAA]].tolist() == [8, -8, 32256]


def test_float_input_is_made_finite_and_clipped() -> None:
    floats = np.array([np.nan, np.inf, -np.inf, 2.0, -0.5], dtype="<f4").tobytes()
    assert to_int16(floats, "pcm_f32le").tolist() == [0, 32767, -32767, 32767, -16383]


@pytest.mark.parametrize(
    ("rate", "encoding"),
    [(48_000, "pcm_f32le"), (44_100, "pcm_f32le"), (24_000, "pcm_s16le"), (8_000, "pcm_s16le")],
)
def test_resampled_stream_keeps_length_and_pitch(rate: int, encoding: str) -> None:
    audio = tone(rate, 2.0)
    data = audio.tobytes() if encoding == "pcm_f32le" else (audio * 32767).astype("<i2").tobytes()
    converter = LiveInputConverter(rate, encoding)
    out = converter.convert(data) + converter.flush()
    assert len(out) // 2 == pytest.approx(32_000, abs=1)
    assert peak_hz(out) == pytest.approx(440, abs=2)


def test_output_does_not_depend_on_how_frames_cut_the_stream() -> None:
    data = tone(48_000, 1.5).tobytes()
    whole = LiveInputConverter(48_000, "pcm_f32le")
    expected = whole.convert(data) + whole.flush()
    cut = LiveInputConverter(48_000, "pcm_f32le")
    pieces, offset = [], 0
    for size in np.random.default_rng(7).integers(1, 4_000, size=400).tolist():
        pieces.append(cut.convert(data[offset : offset + size]))
        offset += size
    pieces.append(cut.convert(data[offset:]))
    assert b"".join(pieces) + cut.flush() == expected


def test_mulaw_at_8k_becomes_16k_speech_band_audio() -> None:
    ulaw = audioop.lin2ulaw((tone(8_000, 1.0, hz=1_000) * 32767).astype("<i2").tobytes(), 2)
    converter = LiveInputConverter(8_000, "pcm_mulaw")
    out = converter.convert(ulaw) + converter.flush()
    assert len(out) // 2 == pytest.approx(16_000, abs=1)
    assert peak_hz(out) == pytest.approx(1_000, abs=3)


def test_16k_pcm16_passes_through_untouched() -> None:
    converter = LiveInputConverter(16_000, "pcm_s16le")
    assert converter.passthrough
    assert converter.convert(b"\x01\x02\x03") == b"\x01\x02"  # the odd byte waits
    assert converter.convert(b"\x04") == b"\x03\x04"
    assert converter.flush() == b""


@pytest.mark.parametrize(("rate", "encoding"), [(7_999, "pcm_s16le"), (96_000, "pcm_f32le")])
def test_formats_outside_the_bounds_are_refused(rate: int, encoding: str) -> None:
    with pytest.raises(ValueError, match="unsupported live audio"):
        LiveInputConverter(rate, encoding)
