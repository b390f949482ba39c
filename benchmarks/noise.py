"""Corpus meetings with background noise at a known signal-to-noise ratio.

Real rooms are not Festival's clean studio: fans, air conditioning and laptop hum sit under
every word. ``noisy_meeting`` mixes seeded noise into a corpus meeting's audio so the accuracy
suite can score the same script clean and noisy (``python -m benchmarks accuracy --snr 10``).
The SNR is measured against the speech alone (the reference turns), not the whole file, so
"10 dB" means what it would on a microphone: speech is ten times the noise's power.

Colours: ``white`` (hiss, flat spectrum), ``pink`` (1/f, the usual model of room and fan
noise: most of its power sits under the voices' formants), ``hum`` (50 Hz mains and its
harmonics, a badly grounded microphone).
"""

from __future__ import annotations

import json
import shutil

import numpy as np

from core.types import SAMPLE_RATE
from scripts.synth_meeting import MeetingAudio, write_wav

NOISE_COLOURS = ("white", "pink", "hum")
NOISE_SEED = 1234  # the same noise for every run, so scores compare across commits


def speech_power(samples: np.ndarray, turns: list[dict[str, object]]) -> float:
    """Mean power over the reference turns (the speech), not the silence between them."""
    spans = [
        samples[int(float(t["start"]) * SAMPLE_RATE) : int(float(t["end"]) * SAMPLE_RATE)]  # type: ignore[arg-type]
        for t in turns
    ]
    speech = np.concatenate([s for s in spans if s.size]) if spans else samples
    return float(np.mean(np.square(speech, dtype=np.float64)))


def make_noise(colour: str, size: int, seed: int = NOISE_SEED) -> np.ndarray:
    """``size`` samples of unit-power noise of the given colour."""
    rng = np.random.default_rng(seed)
    if colour == "white":
        noise = rng.standard_normal(size)
    elif colour == "pink":
        spectrum = np.fft.rfft(rng.standard_normal(size))
        freqs = np.fft.rfftfreq(size, d=1.0 / SAMPLE_RATE)
        spectrum[1:] /= np.sqrt(freqs[1:])  # power falls as 1/f
        spectrum[0] = 0.0
        noise = np.fft.irfft(spectrum, n=size)
    elif colour == "hum":
        t = np.arange(size) / SAMPLE_RATE
        phases = rng.uniform(0, 2 * np.pi, 4)
        noise = sum(
            np.sin(2 * np.pi * 50.0 * k * t + phases[k - 1]) / k for k in range(1, 5)
        ) + 0.05 * rng.standard_normal(size)
    else:
        raise ValueError(f"Unknown noise colour {colour!r}; choose one of {NOISE_COLOURS}.")
    noise = np.asarray(noise, dtype=np.float64)
    return noise / np.sqrt(np.mean(np.square(noise)))


def mix_at_snr(
    samples: np.ndarray, turns: list[dict[str, object]], snr_db: float, colour: str
) -> np.ndarray:
    """The samples with ``colour`` noise added so speech power / noise power is ``snr_db``."""
    noise_power = speech_power(samples, turns) / 10 ** (snr_db / 10)
    noisy = samples + make_noise(colour, samples.size) * np.sqrt(noise_power)
    return np.clip(noisy, -1.0, 1.0).astype(np.float32)


def noisy_meeting(meeting: MeetingAudio, snr_db: float, colour: str = "pink") -> MeetingAudio:
    """The meeting with noise mixed in, in a sibling of its cache directory; same reference."""
    suffix = f"-{colour}{snr_db:g}db"
    directory = meeting.directory.with_name(meeting.directory.name + suffix)
    directory.mkdir(parents=True, exist_ok=True)
    # Rebuilt every time (milliseconds a minute of audio): never stale against its clean source.
    noisy = mix_at_snr(meeting.load_audio(), meeting.reference["turns"], snr_db, colour)
    write_wav(directory / "audio.wav", noisy)
    for source in (meeting.rttm_path, meeting.text_path):
        shutil.copyfile(source, directory / source.name)
    reference = {**meeting.reference, "noise": {"colour": colour, "snr_db": snr_db}}
    (directory / "reference.json").write_text(json.dumps(reference, indent=2) + "\n")
    return MeetingAudio(meeting.name + suffix, directory, reference)
