"""The languages benchmark's report and scoring helpers (the runs themselves need the models)."""

from __future__ import annotations

import numpy as np

from benchmarks.languages import chrf, render_markdown, windows
from core.types import SAMPLE_RATE


def test_chrf_rewards_the_scripted_translation() -> None:
    reference = "Good morning Marco. Today we are talking about the new website."
    assert chrf(reference, reference) == 100.0
    close = chrf("Good morning, Marco. Today we talk about a new site.", reference)
    assert 40 < close < 100
    assert chrf("Buongiorno Marco.", reference) < close


def test_windows_are_at_most_thirty_seconds() -> None:
    audio = np.zeros(int(65 * SAMPLE_RATE), dtype=np.float32)
    assert [len(w) / SAMPLE_RATE for w in windows(audio)] == [30.0, 30.0, 5.0]


def test_report_table() -> None:
    result = {
        "hardware": {"cpu": "Test CPU", "cores": 2},
        "commit": {"sha": "abcdef1234567"},
        "meetings": [
            {"meeting": "italian2", "duration_s": 25.9, "reference_language": "it",
             "detected_language": "it", "detection_probability": 0.99, "wer": 0.078,
             "chrf": 55.4},
            {"meeting": "finnish2", "duration_s": 20.6, "reference_language": "fi",
             "detected_language": "fi", "detection_probability": 1.0, "wer": 0.167,
             "chrf": None},
        ],
        "turn_detection": {"it": {"turns": 9, "accuracy": 1.0}},
        "rtf": {"meeting": "planning2", "duration_s": 36, "repeats": 3, "base": 0.4,
                "tiny.en": 0.15, "base_over_tiny": 2.67},
    }  # fmt: skip
    text = render_markdown(result)
    assert "| italian2 (26 s) | it | it (0.99) | 0.078 | 55.4 |" in text
    assert "| finnish2 (21 s) | fi | fi (1.00) | 0.167 | — |" in text
    assert "| it | 9 | 1.000 |" in text
    assert "base 0.400, tiny.en 0.150 (base/tiny = 2.67x)" in text
