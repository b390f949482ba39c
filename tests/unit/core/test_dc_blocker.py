"""The DC blocker in front of every model: the offset goes, speech stays, chunks do not matter."""

from __future__ import annotations

import numpy as np

from core.dc_blocker import DcBlocker

RATE = 16_000


def _tone(hz: float, seconds: float = 1.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_an_offset_from_the_first_sample_fades_within_a_tenth_of_a_second() -> None:
    voice = _tone(200.0)
    out = DcBlocker(RATE)(voice + np.float32(0.4))
    assert out.dtype == np.float32
    assert abs(float(out[2_400:].mean())) < 1e-3
    np.testing.assert_allclose(out[2_400:], voice[2_400:], atol=0.02)  # 1.4 degrees at 200 Hz


def test_an_offset_that_appears_later_decays_within_a_tenth_of_a_second() -> None:
    signal = np.concatenate([_tone(200.0, 0.5), _tone(200.0, 1.0) + np.float32(-0.3)])
    out = DcBlocker(RATE)(signal)
    after_step = out[8_000 + 1_600 :]
    assert abs(float(after_step.mean())) < 0.01


def test_speech_frequencies_pass_unchanged() -> None:
    for hz in (70.0, 120.0, 1_000.0, 4_000.0):
        voice = _tone(hz, 2.0)
        out = DcBlocker(RATE)(voice)
        gain = float(np.std(out[RATE:]) / np.std(voice[RATE:]))
        assert 0.997 < gain < 1.001, (hz, gain)


def test_a_stream_without_an_offset_starts_unchanged() -> None:
    square = np.where(np.arange(RATE) // 8 % 2, -0.3, 0.3).astype(np.float32)  # 1 kHz
    out = DcBlocker(RATE)(square)
    np.testing.assert_allclose(out, square, atol=0.3 * 0.02)  # 1.6 % sag over a half period


def test_chunks_give_the_same_output_as_one_call() -> None:
    signal = _tone(150.0, 1.0) + np.float32(0.2)
    whole = DcBlocker(RATE)(signal)
    blocker = DcBlocker(RATE)
    bounds = ((0, 1), (1, 1), (1, 4_001), (4_001, RATE))
    pieces = [blocker(signal[a:b]) for a, b in bounds]
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-6)
