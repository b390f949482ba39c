"""Accuracy metrics shared by tests and benchmarks: WER, DER, speaker count, action-item recall."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_PUNCT = re.compile(r"[^\w\s']")


def normalize_text(text: str) -> str:
    """Lower case, no punctuation, single spaces: what WER should compare."""
    return " ".join(_PUNCT.sub(" ", text.lower()).replace("'", "").split())


def word_error_rate(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalize_text(reference), normalize_text(hypothesis)))


@dataclass(frozen=True)
class Span:
    start: float
    end: float
    speaker: str


def diarization_error_rate(
    reference: Iterable[Span], hypothesis: Iterable[Span], collar: float = 0.25
) -> float:
    """DER with the usual 0.25 s forgiveness collar (pyannote.metrics), optimal label mapping."""
    from pyannote.core import Annotation, Segment, Timeline
    from pyannote.metrics.diarization import DiarizationErrorRate

    def annotate(spans: Iterable[Span]) -> Annotation:
        annotation = Annotation()
        for n, span in enumerate(spans):
            if span.end > span.start:
                annotation[Segment(span.start, span.end), n] = span.speaker
        return annotation

    ref, hyp = annotate(reference), annotate(hypothesis)
    # Evaluate over everything either side covers (stated explicitly, not approximated).
    extent = ref.get_timeline().extent() | hyp.get_timeline().extent()
    metric = DiarizationErrorRate(collar=collar, skip_overlap=False)
    return float(metric(ref, hyp, uem=Timeline([extent])))


def spans_from_segments(segments: Sequence[dict[str, Any]]) -> list[Span]:
    return [Span(float(s["start"]), float(s["end"]), str(s["speaker"])) for s in segments]


def spans_from_reference(turns: Sequence[dict[str, Any]]) -> list[Span]:
    return [Span(float(t["start"]), float(t["end"]), str(t["speaker"])) for t in turns]


def action_item_recall(
    expected: Sequence[dict[str, Any]], found: Sequence[dict[str, Any]]
) -> float:
    """Share of scripted action items whose key words appear in some found item's text."""
    if not expected:
        return 1.0
    hits = sum(1 for item in expected if any(_matches(item["text"], f["text"]) for f in found))
    return hits / len(expected)


def action_item_precision(
    expected: Sequence[dict[str, Any]], found: Sequence[dict[str, Any]]
) -> float:
    if not found:
        return 1.0
    hits = sum(1 for f in found if any(_matches(item["text"], f["text"]) for item in expected))
    return hits / len(found)


def _matches(expected: str, found: str) -> bool:
    want = set(normalize_text(expected).split())
    got = set(normalize_text(found).split())
    return len(want & got) >= max(1, int(0.6 * len(want)))


def jaccard_error_rate(reference: Iterable[Span], hypothesis: Iterable[Span]) -> float:
    """JER (DIHARD II): per reference speaker, 1 - Jaccard overlap with its mapped speaker."""
    from pyannote.core import Timeline
    from pyannote.metrics.diarization import JaccardErrorRate

    ref, hyp = _annotation(reference), _annotation(hypothesis)
    extent = ref.get_timeline().extent() | hyp.get_timeline().extent()
    return float(JaccardErrorRate(collar=0.0, skip_overlap=False)(ref, hyp, uem=Timeline([extent])))


def _annotation(spans: Iterable[Span]) -> Any:
    from pyannote.core import Annotation, Segment

    annotation = Annotation()
    for n, span in enumerate(spans):
        if span.end > span.start:
            annotation[Segment(span.start, span.end), n] = span.speaker
    return annotation


@dataclass(frozen=True)
class SpeakerText:
    """A speaker's words in time order (a reference turn or a hypothesis segment)."""

    speaker: str
    start: float
    text: str


def word_errors(reference: str, hypothesis: str) -> int:
    """Substitutions + deletions + insertions between two normalised texts."""
    ref, hyp = normalize_text(reference), normalize_text(hypothesis)
    if not ref or not hyp:
        return len(ref.split()) + len(hyp.split())
    import jiwer

    out = jiwer.process_words(ref, hyp)
    return int(out.substitutions + out.deletions + out.insertions)


def concatenated_min_permutation_wer(
    reference: Sequence[SpeakerText], hypothesis: Sequence[SpeakerText]
) -> float:
    """cpWER (CHiME-6): concatenate each speaker's words, map speakers one to one so the
    summed word errors are minimal (extra speakers map to the empty string), divide by the
    reference word count. Penalises both ASR errors and words given to the wrong speaker."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    refs, hyps = _per_speaker(reference), _per_speaker(hypothesis)
    size = max(len(refs), len(hyps))
    ref_texts = list(refs.values()) + [""] * (size - len(refs))
    hyp_texts = list(hyps.values()) + [""] * (size - len(hyps))
    cost = np.array([[word_errors(r, h) for h in hyp_texts] for r in ref_texts])
    rows, cols = linear_sum_assignment(cost)
    total_words = sum(len(normalize_text(t).split()) for t in ref_texts)
    return float(cost[rows, cols].sum()) / max(1, total_words)


def _per_speaker(items: Sequence[SpeakerText]) -> dict[str, str]:
    texts: dict[str, list[str]] = {}
    for item in sorted(items, key=lambda i: i.start):
        texts.setdefault(item.speaker, []).append(item.text)
    return {speaker: " ".join(parts) for speaker, parts in texts.items()}


def speaker_texts(rows: Sequence[dict[str, Any]]) -> list[SpeakerText]:
    """Reference turns or wire segments (both have speaker/start/text) as ``SpeakerText``."""
    return [SpeakerText(str(r["speaker"]), float(r["start"]), str(r["text"])) for r in rows]
