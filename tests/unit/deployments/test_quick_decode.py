"""The live partials' quick decode (``deployments/quick_decode.py``) with the real packaged
tiny.en model on corpus speech: it must agree with the full-window decode on most words, time
them inside the audio, and hear nothing in silence."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import numpy as np
import pytest

from benchmarks.scoring import word_error_rate
from core.agreement import normalize, revised_words
from core.types import SAMPLE_RATE, Word
from deployments.options import TranscriberArgs
from deployments.quick_decode import FINAL_INPUT_S, repeats_itself, too_many_words
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


def test_a_short_live_final_is_the_quick_decode_and_silence_falls_back_to_the_full_one(
    transcriber: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    full_calls: list[float] = []

    async def batched(request: Request) -> Any:
        full_calls.append(len(request.audio) / SAMPLE_RATE)  # serve.batch needs a replica
        assert request.speech is not None  # found before the batch, not inside it
        return transcriber._run_batch([request])[0]

    monkeypatch.setattr(transcriber, "_transcribe_found", batched)
    meeting = ensure_meeting("standup3", install=True)
    turn = next(t for t in meeting.turns() if t.end - t.start > 3)
    clip = meeting.load_audio()[round(turn.start * SAMPLE_RATE) : round(turn.end * SAMPLE_RATE)]
    encoder = EncoderInputs(transcriber._model.model)
    monkeypatch.setattr(transcriber._model, "model", encoder)
    final = asyncio.run(transcriber.transcribe_short(clip, "en"))
    quick = asyncio.run(transcriber.hypothesize(clip, "en"))
    # the final's input is padded to FINAL_INPUT_S (Whisper hears a sentence better so); the
    # partial's is the audio's own length plus PAD_S
    assert encoder.frames == [
        round(FINAL_INPUT_S * 100),
        round((len(clip) / SAMPLE_RATE + 1) * 100),
    ]
    assert revised_words(quick, final.words) <= 1 and final.language == "en"
    assert final.text == " ".join(w.word for w in final.words)
    assert full_calls == []
    noise = np.random.default_rng(0).normal(0, 3e-4, 2 * SAMPLE_RATE).astype(np.float32)
    assert asyncio.run(transcriber.transcribe_short(noise, "en")).words == []
    assert full_calls == [2.0]  # the quick guess at noise was unsure: the full decode decided


class EncoderInputs:
    """The CTranslate2 model with the length of each encoder input recorded."""

    def __init__(self, model: Any) -> None:
        self._model = model
        self.frames: list[int] = []

    def encode(self, features: Any, **kwargs: Any) -> Any:
        self.frames.append(int(features.shape[-1]))
        return self._model.encode(features, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)


def test_a_final_decoded_after_the_text_before_it_hears_its_own_words_only(
    transcriber: Any,
) -> None:
    """The previous finals are a prompt, never part of the answer (Whisper can copy it)."""
    meeting = ensure_meeting("standup3", install=True)
    audio = meeting.load_audio()
    turns = meeting.reference["turns"][:6]
    for before, turn in itertools.pairwise(turns):
        clip = audio[round(turn["start"] * SAMPLE_RATE) : round(turn["end"] * SAMPLE_RATE)]
        final = asyncio.run(transcriber.transcribe_short(clip, "en", before["text"]))
        assert word_error_rate(turn["text"], final.text) < 0.3, (before["text"], final.text)


def test_a_hypothesis_that_loops_back_is_caught() -> None:
    def words(text: str) -> list[Word]:
        return [Word(w, i, i + 0.5) for i, w in enumerate(text.split())]

    assert repeats_itself(words("Alice, can you send it by Monday? Alice, can"))
    assert repeats_itself(words("Agreed. Agreed."))
    assert not repeats_itself(words("Can you send the notes and can I see them"))
    loop = words("Agreed Agrade Agreed Agride Ag")  # one spoken "Agreed." (0.6 s)
    assert too_many_words(loop, 0.6) and too_many_words(loop, 0.2)
    assert not too_many_words(words("Can you send the notes"), 1.5)


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
