"""Noisy corpus meetings: the SNR is what was asked, against the speech only; the noise is
seeded; the accuracy suite's ``--snr`` scores each meeting clean and noisy."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest

from benchmarks.cli import build_plan, parser
from benchmarks.noise import NOISE_COLOURS, make_noise, mix_at_snr, noisy_meeting, speech_power
from benchmarks.runner import load_meeting, noisy_specs
from core.types import SAMPLE_RATE
from scripts.synth_meeting import MeetingAudio, write_wav

TURNS: list[dict[str, object]] = [{"start": 1.0, "end": 3.0}, {"start": 5.0, "end": 6.0}]


def speech_like(seconds: float = 8.0) -> np.ndarray:
    """A 220 Hz tone during TURNS, near-silence elsewhere."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    samples = np.full(t.size, 1e-4, dtype=np.float32)
    for turn in TURNS:
        span = (t >= float(turn["start"])) & (t < float(turn["end"]))  # type: ignore[arg-type]
        samples[span] = 0.1 * np.sin(2 * np.pi * 220 * t[span])
    return samples


@pytest.mark.parametrize("colour", NOISE_COLOURS)
@pytest.mark.parametrize("snr_db", [20.0, 10.0, 0.0])
def test_noise_is_mixed_at_the_requested_snr_of_the_speech(colour: str, snr_db: float) -> None:
    clean = speech_like()
    noisy = mix_at_snr(clean, TURNS, snr_db, colour)
    noise = noisy.astype(np.float64) - clean
    measured = 10 * np.log10(speech_power(clean, TURNS) / np.mean(noise**2))
    assert measured == pytest.approx(snr_db, abs=0.1)
    # The silence between turns does not count: the whole file's power is much lower.
    assert speech_power(clean, TURNS) > 2 * float(np.mean(clean.astype(np.float64) ** 2))


def test_noise_is_seeded_and_coloured() -> None:
    assert np.array_equal(make_noise("pink", 16000), make_noise("pink", 16000))
    assert not np.array_equal(make_noise("pink", 16000, seed=1), make_noise("pink", 16000))
    spectra = {}
    for colour in ("white", "pink"):
        power = np.abs(np.fft.rfft(make_noise(colour, SAMPLE_RATE * 4))) ** 2
        freqs = np.fft.rfftfreq(SAMPLE_RATE * 4, 1 / SAMPLE_RATE)
        low = power[(freqs > 100) & (freqs < 500)].mean()
        high = power[(freqs > 4000) & (freqs < 8000)].mean()
        spectra[colour] = low / high
    assert 0.7 < spectra["white"] < 1.4  # flat
    assert spectra["pink"] > 8  # 1/f: ~15x more power per hertz at 300 Hz than at 6 kHz
    hum = np.abs(np.fft.rfft(make_noise("hum", SAMPLE_RATE)))
    assert int(np.argmax(hum)) == 50  # 1-s frame: bin k is k Hz
    with pytest.raises(ValueError, match="Unknown noise colour"):
        make_noise("brown", 10)


def corpus_meeting(root: Path) -> MeetingAudio:
    directory = root / "tiny"
    directory.mkdir()
    write_wav(directory / "audio.wav", speech_like())
    reference = {"duration": 8.0, "turns": TURNS, "action_items": []}
    (directory / "reference.json").write_text(json.dumps(reference))
    (directory / "reference.rttm").write_text("rttm\n")
    (directory / "reference.txt").write_text("text\n")
    return MeetingAudio("tiny", directory, reference)


def test_noisy_meeting_keeps_the_reference_beside_its_noisy_audio(tmp_path: Path) -> None:
    noisy = noisy_meeting(corpus_meeting(tmp_path), 10, "white")
    assert noisy.name == "tiny-white10db"
    assert noisy.directory == tmp_path / "tiny-white10db"
    assert noisy.reference["turns"] == TURNS
    assert noisy.reference["noise"] == {"colour": "white", "snr_db": 10}
    assert (noisy.directory / "reference.rttm").read_text() == "rttm\n"
    with wave.open(str(noisy.audio_path), "rb") as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getnframes()) == (
            1,
            SAMPLE_RATE,
            8 * SAMPLE_RATE,
        )
    assert not np.allclose(noisy.load_audio(), corpus_meeting_audio(tmp_path), atol=1e-3)


def corpus_meeting_audio(root: Path) -> np.ndarray:
    return MeetingAudio("tiny", root / "tiny", {}).load_audio()


def test_load_meeting_reads_a_noise_suffix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean = corpus_meeting(tmp_path)
    monkeypatch.setattr("benchmarks.runner.ensure_meeting", lambda name, **_: clean)
    assert load_meeting("tiny").name == "tiny"
    assert load_meeting("tiny@pink7.5").reference["noise"] == {"colour": "pink", "snr_db": 7.5}
    assert load_meeting("tiny:1@hum-3").name == "tiny-hum-3db"


def test_snr_option_scores_each_accuracy_meeting_clean_then_noisy() -> None:
    assert noisy_specs(["a", "b:5"], [10, 5], "white") == [
        "a", "b:5", "a@white10", "a@white5", "b:5@white10", "b:5@white5",
    ]  # fmt: skip
    opts = parser().parse_args(["accuracy", "--meetings", "short2", "--snr", "10"])
    assert build_plan("accuracy", opts).accuracy == ["short2", "short2@pink10"]
    default = build_plan("accuracy", parser().parse_args(["accuracy"]))
    assert all("@" not in spec for spec in default.accuracy)
