"""The live client's wire formats: what tests and benchmarks send as browsers and phones do."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.live_client import WireFormat, mulaw
from core.live_input import mulaw_table


def test_mulaw_round_trips_within_one_quantisation_step() -> None:
    audio = np.random.default_rng(3).uniform(-1, 1, 20_000).astype(np.float32)
    decoded = mulaw_table()[np.frombuffer(mulaw(audio), dtype=np.uint8)] / 32767
    # G.711's widest step is 1024 of 32768 near full scale; small samples are finer
    assert np.max(np.abs(decoded - audio)) < 1024 / 32768
    quiet = np.abs(audio) < 0.01
    assert np.max(np.abs(decoded - audio)[quiet]) < 32 / 32768


@pytest.mark.parametrize("rate", [8_000, 44_100, 48_000])
def test_render_resamples_the_whole_recording(rate: int) -> None:
    t = np.arange(16_000) / 16_000
    audio = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    rendered = WireFormat(rate, "pcm_f32le").render(audio)
    assert len(rendered) == pytest.approx(rate, abs=1)
    spectrum = np.abs(np.fft.rfft(rendered))
    assert np.argmax(spectrum) * rate / len(rendered) == pytest.approx(440, abs=2)


def test_the_default_wire_is_the_seeds_16k_pcm16() -> None:
    wire = WireFormat()
    audio = np.array([0.0, 0.5, -1.0], dtype=np.float32)
    assert (wire.sample_rate, wire.encoding) == (16_000, "pcm_s16le")
    assert wire.render(audio) is audio
    assert wire.encode(audio) == np.array([0, 16383, -32767], dtype="<i2").tobytes()
