"""Language routing, the per-job language state, caption spans and language-aware summaries."""

from __future__ import annotations

import numpy as np
import pytest

from core.extractive import build_extractive_summary
from core.languages import (
    WHISPER_LANGUAGES,
    LanguageRouter,
    ModelRoute,
    UnsupportedLanguageError,
    model_languages,
)
from core.llm_prompts import build_map_prompt, build_reduce_prompt
from core.meeting_language import MeetingLanguage
from core.translation import TranslatedSpan, attach_translations, span_audio
from core.types import SAMPLE_RATE, Segment

TINY = ModelRoute("Transcriber", model_languages("packaged:tiny.en"))
BASE = ModelRoute("MultilingualTranscriber", model_languages("packaged:base"))
CPU = LanguageRouter((TINY, BASE))
GPU = LanguageRouter((ModelRoute("Transcriber", model_languages("large-v3")),))
ENGLISH_ONLY = LanguageRouter((TINY,))


def test_whisper_language_list_matches_faster_whisper() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert tuple(WHISPER_LANGUAGES) == _LANGUAGE_CODES


@pytest.mark.parametrize(
    ("model", "multilingual"),
    [
        ("packaged:tiny.en", False),
        ("/models/medium.en/", False),
        ("distil-large-v3", False),
        ("packaged:base", True),
        ("large-v3", True),
        ("/opt/models/whisper-large-v3", True),
    ],
)
def test_model_languages_from_the_name(model: str, multilingual: bool) -> None:
    assert ModelRoute("T", model_languages(model)).multilingual is multilingual


def test_cpu_profile_keeps_english_on_the_fast_model_and_the_rest_on_base() -> None:
    assert CPU.route("en") is TINY
    assert CPU.route("it") is BASE
    assert CPU.route("fi") is BASE
    assert CPU.detector is BASE
    assert CPU.translator("it") is BASE
    assert CPU.translator("en") is None


def test_gpu_profile_serves_everything_with_one_model() -> None:
    assert GPU.route("it") is GPU.routes[0] is GPU.route("en")
    assert GPU.detector is GPU.routes[0]


def test_unsupported_requests() -> None:
    with pytest.raises(UnsupportedLanguageError, match="not a language Whisper knows"):
        CPU.check("xx")
    with pytest.raises(UnsupportedLanguageError, match="this profile serves: en"):
        ENGLISH_ONLY.check("it")
    with pytest.raises(UnsupportedLanguageError, match="Language detection needs"):
        ENGLISH_ONLY.check("auto")
    with pytest.raises(UnsupportedLanguageError, match="Translation needs"):
        ENGLISH_ONLY.check("en", "en")
    with pytest.raises(UnsupportedLanguageError, match="into English"):
        CPU.check("it", "de")
    CPU.check("auto", "en")
    CPU.check(None)
    ENGLISH_ONLY.check(None)
    ENGLISH_ONLY.check("en")


def test_detection_settles_when_confident_or_out_of_attempts() -> None:
    state = MeetingLanguage.start("auto", "en")
    assert state.detecting and state.code is None
    state.observe("it", 0.3, max_attempts=3)
    assert state.detecting and state.code == "it"
    state.observe("it", 0.95, max_attempts=3)
    assert not state.detecting and state.probability == 0.95
    unsure = MeetingLanguage.start("auto", None)
    unsure.observe("fi", 0.2, max_attempts=1)
    assert not unsure.detecting


def test_translation_only_for_non_english_speech_a_model_translates() -> None:
    assert MeetingLanguage.start("it", "en").wants_translation(lambda _c: True)
    assert not MeetingLanguage.start("it", None).wants_translation(lambda _c: True)
    assert not MeetingLanguage.start("en", "en").wants_translation(lambda _c: True)
    assert not MeetingLanguage.start(None, "en").wants_translation(lambda _c: True)
    assert not MeetingLanguage.start("it", "en").wants_translation(lambda _c: False)
    assert MeetingLanguage.start("fi", None).code == "fi"


def segment(sid: str, start: float, end: float, text: str = "x") -> Segment:
    return Segment(sid, "S", text, start, end, 0)


def test_merged_segments_take_the_translations_inside_them() -> None:
    spans = [
        TranslatedSpan(10.0, 11.0, "Good morning."),
        TranslatedSpan(11.5, 12.0, "How are you?"),
        TranslatedSpan(13.0, 14.0, "Fine."),
    ]
    # the first two provisional spans were merged: the two local speakers are one person
    merged = attach_translations([segment("a", 10.0, 12.0), segment("b", 13.0, 14.0)], spans)
    assert [s.translation for s in merged] == ["Good morning. How are you?", "Fine."]
    assert attach_translations([segment("a", 0, 1)], [])[0].translation is None


def test_span_audio_is_padded_and_clipped_to_the_window() -> None:
    audio = np.arange(10 * SAMPLE_RATE, dtype=np.float32)
    clip = span_audio(audio, window_start=100.0, start=101.0, end=102.0)
    assert len(clip) == round(1.3 * SAMPLE_RATE)
    assert clip[0] == round(0.85 * SAMPLE_RATE)
    assert len(span_audio(audio, 100.0, 100.0, 110.0)) == len(audio)


def embed(sentences: list[str]) -> np.ndarray:
    return np.eye(len(sentences), 4, dtype=np.float32) + 0.1


ITALIAN = [
    Segment("a", "S0", "Marco, puoi mandare il rapporto entro venerdì?", 0, 3, 0),
    Segment("b", "S1", "Sì, lo mando domani mattina dopo la riunione.", 3, 6, 0),
]


def test_extractive_summary_says_it_cannot_apply_english_rules() -> None:
    summary = build_extractive_summary(ITALIAN, embed, k=2, language="it")
    assert summary.action_items == [] and summary.decisions == [] and summary.topics == []
    assert summary.language == "it"
    assert summary.language_note is not None and "Italian" in summary.language_note
    assert "venerdì" in summary.summary
    english = build_extractive_summary(ITALIAN, embed, k=2, language="en")
    assert english.language_note is None


def test_llm_prompts_name_the_meeting_language() -> None:
    assert "The meeting is in Italian. Write the summary" in build_map_prompt("x", language="it")
    assert "The meeting is in" not in build_map_prompt("x", language="en")
    assert build_map_prompt("x") == build_map_prompt("x", language=None)
    assert "in Finnish." in build_reduce_prompt([], language="fi")
