"""``/v1`` parameter checks and the response-format mapping, validated against the official
``openai`` client's own response models."""

from __future__ import annotations

import pytest
from openai.types.audio import Transcription, TranscriptionDiarized, TranscriptionVerbose

from app.openai_compat.errors import OpenAIError
from app.openai_compat.formats import render_response, speaker_letters
from app.openai_compat.params import TranscriptionParams, model_ids, parse_params
from app.uploads import ReceivedUpload
from core.exports import render_transcript
from core.types import Segment, Word
from processor_api.backend import ServedModel

TINY = ServedModel("tiny.en", "en")
MULTI = ServedModel("large-v3", None)


def form(**fields: str | list[str]) -> ReceivedUpload:
    return ReceivedUpload(
        size=10,
        filename="a.wav",
        fields={k: v if isinstance(v, list) else [v] for k, v in fields.items()},
    )


def segments() -> list[Segment]:
    return [
        Segment(
            "w0-0",
            "SPEAKER_2",
            "Hello there.",
            0.5,
            1.5,
            0,
            [Word("Hello", 0.5, 0.9, 0.9), Word("there.", 1.0, 1.5, 0.5)],
        ),
        Segment("w0-1", "SPEAKER_1", "Hi.", 2.0, 2.4, 0, [Word("Hi.", 2.0, 2.4, 1.0)]),
        Segment("w1-0", "SPEAKER_2", "Bye.", 31.0, 31.5, 1, [Word("Bye.", 31.0, 31.5, 0.8)]),
    ]


def params(**fields: str | list[str]) -> TranscriptionParams:
    return parse_params(form(model="whisper-1", **fields), [TINY])


def error_of(**fields: str | list[str]) -> OpenAIError:
    with pytest.raises(OpenAIError) as caught:
        parse_params(form(**fields), [TINY])
    return caught.value


def test_defaults_and_openai_model_aliases() -> None:
    p = params()
    assert (p.model, p.response_format, p.stream, p.granularities) == (
        TINY,
        "json",
        False,
        frozenset({"segment"}),
    )
    assert parse_params(form(model="tiny.en"), [TINY]).model == TINY
    assert model_ids([TINY])[:2] == ["tiny.en", "whisper-1"]
    assert model_ids([]) == []


def test_every_field_is_read() -> None:
    p = params(
        response_format="verbose_json",
        language="en-US",
        prompt="Names: Bob",
        temperature="0.2",
        stream="true",
        **{"timestamp_granularities[]": ["word", "segment"]},
    )
    assert (p.response_format, p.language, p.prompt, p.temperature, p.stream) == (
        "verbose_json",
        "en",
        "Names: Bob",
        0.2,
        True,
    )
    assert p.granularities == frozenset({"word", "segment"})


@pytest.mark.parametrize(
    ("fields", "status", "param", "code"),
    [
        ({}, 400, "model", None),
        ({"model": "gpt-9"}, 404, "model", "model_not_found"),
        ({"model": "whisper-1", "response_format": "xml"}, 400, "response_format", "invalid_value"),
        ({"model": "whisper-1", "language": "de"}, 400, "language", "unsupported_language"),
        ({"model": "whisper-1", "language": "english!"}, 400, "language", "invalid_value"),
        ({"model": "whisper-1", "temperature": "1.5"}, 400, "temperature", None),
        ({"model": "whisper-1", "temperature": "warm"}, 400, "temperature", None),
        ({"model": "whisper-1", "stream": "maybe"}, 400, "stream", None),
        (
            {"model": "whisper-1", "timestamp_granularities[]": "char"},
            400,
            "timestamp_granularities",
            "invalid_value",
        ),
    ],
)
def test_invalid_fields_name_the_param(
    fields: dict[str, str], status: int, param: str, code: str | None
) -> None:
    error = error_of(**fields)
    assert (error.status, error.param, error.code) == (status, param, code)
    assert set(error.body()["error"]) == {"message", "type", "param", "code"}


def test_a_multilingual_model_takes_any_language() -> None:
    assert parse_params(form(model="whisper-1", language="de"), [MULTI]).language == "de"


def test_json_and_text_are_the_joined_segment_texts() -> None:
    body, media = render_response(segments(), params(), 32.0)
    assert media == "application/json"
    parsed = Transcription.model_validate(body)
    assert parsed.text == "Hello there. Hi. Bye."
    assert body["usage"] == {"type": "duration", "seconds": 32.0}
    text, media = render_response(segments(), params(response_format="text"), 32.0)
    assert (text, media) == ("Hello there. Hi. Bye.\n", "text/plain; charset=utf-8")


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_are_the_meeting_exports(fmt: str) -> None:
    body, media = render_response(segments(), params(response_format=fmt), 32.0)
    assert (body, media) == render_transcript(segments(), fmt)


def test_verbose_json_segments_and_words_follow_the_granularities() -> None:
    body, _ = render_response(segments(), params(response_format="verbose_json"), 32.0)
    assert isinstance(body, dict)
    verbose = TranscriptionVerbose.model_validate(body)
    assert verbose.words is None and verbose.segments is not None
    assert [(s.id, s.start, s.end, s.text) for s in verbose.segments] == [
        (0, 0.5, 1.5, "Hello there."),
        (1, 2.0, 2.4, "Hi."),
        (2, 31.0, 31.5, "Bye."),
    ]
    assert [s["speaker"] for s in body["segments"]] == ["A", "B", "A"]
    assert verbose.segments[1].avg_logprob == 0.0  # log(1.0)
    assert verbose.segments[0].avg_logprob == pytest.approx(-0.3993, abs=1e-4)
    assert (verbose.language, verbose.duration) == ("en", 32.0)
    words_only = params(response_format="verbose_json", **{"timestamp_granularities[]": "word"})
    body, _ = render_response(segments(), words_only, 32.0)
    verbose = TranscriptionVerbose.model_validate(body)
    assert verbose.segments is None and verbose.words is not None
    assert [(w.word, w.start, w.end) for w in verbose.words][:2] == [
        ("Hello", 0.5, 0.9),
        ("there.", 1.0, 1.5),
    ]


def test_diarized_json_has_openai_speaker_letters_in_order_of_appearance() -> None:
    body, _ = render_response(segments(), params(response_format="diarized_json"), 32.0)
    diarized = TranscriptionDiarized.model_validate(body)
    assert diarized.task == "transcribe" and diarized.text == "Hello there. Hi. Bye."
    assert [(s.id, s.speaker, s.type) for s in diarized.segments] == [
        ("w0-0", "A", "transcript.text.segment"),
        ("w0-1", "B", "transcript.text.segment"),
        ("w1-0", "A", "transcript.text.segment"),
    ]


def test_speaker_letters_go_past_the_alphabet() -> None:
    many = [Segment(f"s{i}", f"SPEAKER_{i}", "x", i, i + 0.5, 0) for i in range(28)]
    letters = speaker_letters(many)
    assert (letters["SPEAKER_0"], letters["SPEAKER_25"], letters["SPEAKER_27"]) == (
        "A",
        "Z",
        "S28",
    )


def test_openai_model_names_go_to_a_model_that_writes_the_language() -> None:
    from app.openai_compat.params import resolve_model
    from processor_api.backend import ServedModel

    served = [ServedModel(id="tiny.en", language="en"), ServedModel(id="base", language=None)]
    assert resolve_model("whisper-1", served).id == "tiny.en"  # the profile's default
    assert resolve_model("whisper-1", served, "en").id == "tiny.en"
    assert resolve_model("whisper-1", served, "it").id == "base"
    assert resolve_model("base", served, "en").id == "base"  # an explicit id is kept
