"""The live partials' quick decode (``deployments/quick_decode.py``) with the real packaged
tiny.en model on corpus speech: it must agree with the full-window decode on most words, time
them inside the audio, and hear nothing in silence."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from core.agreement import normalize, revised_words
from core.types import SAMPLE_RATE
from deployments.options import TranscriberArgs
from deployments.transcriber import Request, Transcriber
from scripts.synth_meeting import ensure_meeting

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def transcriber() -> Any:
    deployment: Any = Transcriber
    return deployment.func_or_class(TranscriberArgs(cpu_threads=2))


def test_quick_words_agree_with_the_full_decode(transcriber: Any) -> None:
    meeting = ensure_meeting("standup3", install=True)
    audio = meeting.load_audio()
    turns = [t for t in meeting.turns() if t.end - t.start > 2.5][:5]
    quick_total, disagreed = 0, 0
    for turn in turns:
        clip = audio[round(turn.start * SAMPLE_RATE) : round(turn.end * SAMPLE_RATE)]
        quick = asyncio.run(transcriber.hypothesize(clip, "en"))
        full = transcriber._run_batch([Request(clip, "en", "transcribe")])[0].words
        assert quick, f"nothing heard in {turn}"
        duration = len(clip) / SAMPLE_RATE
        assert all(0 <= w.start <= w.end <= duration + 0.05 for w in quick)
        assert [w.start for w in quick] == sorted(w.start for w in quick)
        assert all(w.word == w.word.strip() and normalize(w.word) for w in quick)
        quick_total += len(quick)
        disagreed += revised_words(quick, full)
    assert disagreed / quick_total < 0.2, (disagreed, quick_total)


def test_quick_words_hear_nothing_in_silence(transcriber: Any) -> None:
    silence = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    words = asyncio.run(transcriber.hypothesize(silence))
    assert len(words) <= 1  # Whisper may say "you" to silence; finals drop it, partials show it


def test_a_multilingual_model_picks_the_language_when_none_is_given(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from settings.config import get_settings

    monkeypatch.setenv("MEETING_MODEL_CACHE_DIR", str(tmp_path_factory.mktemp("models")))
    get_settings.cache_clear()
    try:
        deployment: Any = Transcriber
        base = deployment.func_or_class(
            TranscriberArgs(model="packaged:base", language=None, cpu_threads=2)
        )
    finally:
        get_settings.cache_clear()
    italian = ensure_meeting("italian2", install=True)
    first_turn = italian.load_audio()[: int(4.6 * SAMPLE_RATE)]  # "Buongiorno Marco. ..."
    words = asyncio.run(base.hypothesize(first_turn))
    assert "buongiorno" in "".join(normalize(w.word) for w in words)
