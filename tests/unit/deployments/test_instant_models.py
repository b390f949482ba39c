"""The load profile's stand-in models: deterministic, timed by the audio, cheap."""

from __future__ import annotations

import numpy as np
import pytest

from core.types import SAMPLE_RATE, Segment
from deployments.instant_models import (
    instant_diarization,
    instant_summary,
    instant_transcription,
    speech_runs,
)
from deployments.options import InstantArgs

ARGS = InstantArgs()


def tone_with_pauses(spans: list[tuple[float, float]], total_s: float) -> np.ndarray:
    """A 200 Hz tone during each (start, end) span, silence elsewhere."""
    audio = np.zeros(int(total_s * SAMPLE_RATE), dtype=np.float32)
    for start, end in spans:
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        audio[a:b] = 0.1 * np.sin(2 * np.pi * 200 * np.arange(b - a) / SAMPLE_RATE)
    return audio


def test_speech_runs_follow_the_audio_and_bridge_short_pauses() -> None:
    audio = tone_with_pauses([(0.5, 2.0), (2.2, 3.0), (4.0, 5.5)], 6.0)
    runs = [(r.start, r.end) for r in speech_runs(audio, ARGS)]
    assert runs == [(0.5, 3.0), (4.0, 5.5)]  # the 0.2 s pause is bridged, the 1 s one is not


def test_silence_gives_no_words_and_no_turns() -> None:
    silence = np.zeros(SAMPLE_RATE * 3, dtype=np.float32)
    assert instant_transcription(silence, ARGS).words == []
    assert instant_diarization(silence, ARGS).turns == []


def test_words_lie_inside_speech_and_repeat_exactly() -> None:
    audio = tone_with_pauses([(1.0, 3.0), (4.0, 6.0)], 7.0)
    first = instant_transcription(audio, ARGS)
    assert first == instant_transcription(audio, ARGS)
    assert len(first.words) == 10  # 2 s runs at 2.5 words/s
    assert all(1.0 <= w.start < w.end <= 3.0 or 4.0 <= w.start < w.end <= 6.0 for w in first.words)
    assert first.text.lower().split() == [w.word for w in first.words]
    assert all(type(w.start) is float for w in first.words)  # pickles as plain floats


def test_turns_alternate_speakers_with_one_distinct_embedding_each() -> None:
    audio = tone_with_pauses([(0.0, 1.0), (2.0, 3.0), (4.0, 5.0)], 5.5)
    result = instant_diarization(audio, ARGS)
    assert [t.speaker for t in result.turns] == ["SPEAKER_00", "SPEAKER_01", "SPEAKER_00"]
    a, b = (np.array(result.embeddings[s]) for s in ("SPEAKER_00", "SPEAKER_01"))
    assert float(a @ b) == 0.0 and float(a @ a) == pytest.approx(1.0)


def test_summary_names_an_engine_that_says_it_is_not_a_model() -> None:
    segments = [Segment("w0-0", "SPEAKER_00", "We ship on Friday.", 0.0, 2.0, 0)]
    summary = instant_summary(segments)
    assert summary.engine == "instant"
    assert summary.summary == "We ship on Friday."
    assert instant_summary([]).summary == "Nothing was said."
