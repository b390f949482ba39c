"""Final transcripts in OpenAI's response formats, built from the meeting's stored segments.

``srt`` and ``vtt`` are the meeting exports of ``core/exports.py`` (so speaker names appear in
the cues); the JSON shapes follow OpenAI's ``Transcription``, ``TranscriptionVerbose`` and
``TranscriptionDiarized`` objects. Speakers become ``A``, ``B``, ... in order of first
appearance, as OpenAI's diarizing model labels them.
"""

from __future__ import annotations

import dataclasses
import math
import string
import zlib
from collections.abc import Sequence
from typing import Any

from app.openai_compat.params import TranscriptionParams
from core.exports import render_transcript
from core.types import Segment
from core.word_pieces import join_texts

TEXT_MEDIA_TYPE = "text/plain; charset=utf-8"


def transcript_text(segments: Sequence[Segment]) -> str:
    """The segments' texts as one text (no space between lines of an unspaced script)."""
    return join_texts([s.text for s in segments])


def speaker_letters(segments: Sequence[Segment]) -> dict[str, str]:
    """Meeting speaker label -> ``A``, ``B``, ... (``S27``, ``S28``, ... past 26 speakers)."""
    letters: dict[str, str] = {}
    for segment in segments:
        if segment.speaker not in letters:
            n = len(letters)
            letters[segment.speaker] = string.ascii_uppercase[n] if n < 26 else f"S{n + 1}"
    return letters


def duration_usage(duration: float) -> dict[str, Any]:
    return {"type": "duration", "seconds": round(duration, 3)}


def in_english(segment: Segment) -> Segment:
    """The segment with its English caption as its text (English speech has none: as is)."""
    if not segment.translation:
        return segment
    return dataclasses.replace(segment, text=segment.translation, words=[])


def render_response(
    segments: Sequence[Segment],
    params: TranscriptionParams,
    duration: float,
    spoken: str | None = None,
) -> tuple[str | dict[str, Any], str]:
    """The body (a string or a JSON object) and its media type; ``spoken`` is the language
    the meeting turned out to be in (None when it kept the profile's default)."""
    ordered = sorted(segments, key=lambda s: (s.start, s.window))
    if params.task == "translate":
        ordered = [in_english(s) for s in ordered]
    fmt = params.response_format
    if fmt in ("srt", "vtt"):
        return render_transcript(ordered, fmt)
    if fmt == "text":
        return transcript_text(ordered) + "\n", TEXT_MEDIA_TYPE
    if fmt == "verbose_json":
        return verbose_json(ordered, params, duration, spoken), "application/json"
    if fmt == "diarized_json":
        return diarized_json(ordered, duration, params.task), "application/json"
    return {"text": transcript_text(ordered), "usage": duration_usage(duration)}, "application/json"


def verbose_json(
    segments: Sequence[Segment],
    params: TranscriptionParams,
    duration: float,
    spoken: str | None = None,
) -> dict[str, Any]:
    translated = params.task == "translate"
    language = "en" if translated else spoken or params.language or params.model.language
    body: dict[str, Any] = {
        "task": params.task,
        "language": language or "unknown",
        "duration": round(duration, 3),
        "text": transcript_text(segments),
        "usage": duration_usage(duration),
    }
    if "segment" in params.granularities:
        letters = speaker_letters(segments)
        body["segments"] = [verbose_segment(n, s, letters) for n, s in enumerate(segments)]
    if "word" in params.granularities and not translated:  # the words are the spoken ones
        body["words"] = [
            {"word": w.word, "start": w.start, "end": w.end} for s in segments for w in s.words
        ]
    return body


def verbose_segment(index: int, segment: Segment, letters: dict[str, str]) -> dict[str, Any]:
    """Whisper's segment fields; those the pipeline does not keep are derived or neutral:
    ``avg_logprob`` from the word probabilities, ``tokens`` empty (documented)."""
    return {
        "id": index,
        "seek": round(segment.start * 100),  # Whisper counts seek in 10 ms frames
        "start": segment.start,
        "end": segment.end,
        "text": segment.text,
        "tokens": [],
        "temperature": 0.0,
        "avg_logprob": average_logprob(segment),
        "compression_ratio": compression_ratio(segment.text),
        "no_speech_prob": 0.0,
        "speaker": letters.get(segment.speaker, segment.speaker),  # extension
    }


def diarized_json(
    segments: Sequence[Segment], duration: float, task: str = "transcribe"
) -> dict[str, Any]:
    letters = speaker_letters(segments)
    return {
        "task": task,
        "duration": round(duration, 3),
        "text": transcript_text(segments),
        "segments": [diarized_segment(s, letters) for s in segments],
        "usage": duration_usage(duration),
    }


def diarized_segment(segment: Segment, letters: dict[str, str]) -> dict[str, Any]:
    """OpenAI's ``transcript.text.segment`` shape (also the streamed segment event)."""
    return {
        "type": "transcript.text.segment",
        "id": segment.id,
        "start": segment.start,
        "end": segment.end,
        "speaker": letters.get(segment.speaker, segment.speaker),
        "text": segment.text,
    }


def average_logprob(segment: Segment) -> float:
    probabilities = [min(max(w.probability, 1e-6), 1.0) for w in segment.words]
    if not probabilities:
        return 0.0
    return round(sum(math.log(p) for p in probabilities) / len(probabilities), 4)


def compression_ratio(text: str) -> float:
    """Whisper's gzip ratio (repetitive text compresses well, > 2.4 is suspicious)."""
    data = text.encode()
    return round(len(data) / len(zlib.compress(data)), 4) if data else 0.0
