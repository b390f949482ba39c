"""Caption translations: speech spans to translate, and their texts put back on segments.

A window's translations are made while the window is processed, on spans from a provisional
alignment with the window's own speaker labels. At publication the speakers are linked to
meeting-wide labels, which can only merge neighbouring spans (two local labels found to be one
person), never split them; so each published segment takes the translations of the spans that
lie inside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from core.types import SAMPLE_RATE, Segment

SPAN_PAD_S = 0.15  # a little audio either side, so the first and last words are whole
EPSILON_S = 0.01


@dataclass(frozen=True, slots=True)
class TranslatedSpan:
    start: float  # meeting time
    end: float
    text: str


def span_audio(audio: np.ndarray, window_start: float, start: float, end: float) -> np.ndarray:
    """The window's samples for a span given in meeting time, padded and clipped to the window."""
    first = max(0, round((start - window_start - SPAN_PAD_S) * SAMPLE_RATE))
    last = min(len(audio), round((end - window_start + SPAN_PAD_S) * SAMPLE_RATE))
    return audio[first:last]


def attach_translations(
    segments: Sequence[Segment], spans: Sequence[TranslatedSpan]
) -> list[Segment]:
    """Segments with ``translation`` set from the spans inside them (unchanged when none)."""
    if not spans:
        return list(segments)
    return [replace(s, translation=_translation_of(s, spans)) for s in segments]


def _translation_of(segment: Segment, spans: Sequence[TranslatedSpan]) -> str:
    texts = [
        span.text
        for span in spans
        if span.start >= segment.start - EPSILON_S and span.end <= segment.end + EPSILON_S
    ]
    return " ".join(t for t in texts if t).strip()
