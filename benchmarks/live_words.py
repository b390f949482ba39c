"""Per-word timing of a live stream: word end in the audio → first shown, and → final.

Reference word times: the synthesiser records each utterance's start and end (``turns`` in
``reference.json``), not word times, so a word's end is placed **proportionally to character
count within its utterance** (Festival speaks at a roughly even rate). That is coarse (tens of
milliseconds to a few hundred for a long word list), the same for every run, and good enough
for medians of second-scale latencies; it is not a forced alignment.

Matching: the final lines (all ``transcript`` segments, in order) are aligned to the reference
words by a longest common subsequence of normalized words; each matched final word is then
traced back through the partials of its ``segment_id`` (again by LCS) to the first partial
whose stable words held it. Unmatched reference words (recognition errors) have no latency.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.agreement import normalize

Message = tuple[float, dict[str, Any]]  # (monotonic arrival time, room message)


@dataclass(frozen=True)
class RefWord:
    text: str
    end: float  # meeting time, seconds
    turn: int
    last_in_turn: bool


def reference_words(turns: Sequence[dict[str, Any]]) -> list[RefWord]:
    """Every reference word with its end time spread by character count over its turn."""
    out: list[RefWord] = []
    for index, turn in enumerate(turns):
        tokens = [t for t in turn["text"].split() if normalize(t)]
        total = sum(len(t) + 1 for t in tokens) or 1
        span, done = turn["end"] - turn["start"], 0
        for n, token in enumerate(tokens):
            done += len(token) + 1
            end = turn["start"] + span * done / total
            out.append(RefWord(normalize(token), end, index, n == len(tokens) - 1))
    return out


def lcs_pairs(a: Sequence[str], b: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence of two word lists."""
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) - 1, -1, -1):
        for j in range(len(b) - 1, -1, -1):
            table[i][j] = (
                table[i + 1][j + 1] + 1 if a[i] == b[j] else max(table[i + 1][j], table[i][j + 1])
            )
    pairs, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return pairs


@dataclass
class FinalWord:
    text: str
    segment_id: str | None
    final_at: float
    shown_at: float  # first partial that held it, else its final


def final_words(received: Sequence[Message]) -> list[FinalWord]:
    """The final transcript's words, each with when it was first shown and when final."""
    partials: dict[str, list[Message]] = defaultdict(list)
    out: list[FinalWord] = []
    for at, m in received:
        if m["type"] == "transcript_partial":
            partials[m["segment_id"]].append((at, m))
        elif m["type"] == "transcript":
            segment = m["segment"]
            words = [w["word"] for w in segment.get("words", [])] or segment["text"].split()
            sid = segment.get("segment_id")
            out.extend(FinalWord(normalize(w), sid, at, at) for w in words if normalize(w))
    by_segment: dict[str, list[FinalWord]] = defaultdict(list)
    for word in out:
        if word.segment_id is not None:
            by_segment[word.segment_id].append(word)
    for sid, words in by_segment.items():
        texts = [w.text for w in words]
        for at, m in partials.get(sid, []):
            shown = [normalize(w["word"]) for w in m.get("words", [])]
            for _, j in lcs_pairs(shown, texts):
                words[j].shown_at = min(words[j].shown_at, at)
    return out


def revision_share(received: Sequence[Message]) -> dict[str, Any]:
    """Shown (stable) partial words that the final line did not keep, over all shown words."""
    shown: dict[str, list[str]] = {}
    finals: dict[str, list[str]] = defaultdict(list)
    for _, m in received:
        if m["type"] == "transcript_partial" and m.get("words"):
            shown[m["segment_id"]] = [normalize(w["word"]) for w in m["words"]]
        elif m["type"] == "transcript" and m["segment"].get("segment_id"):
            words = [normalize(w["word"]) for w in m["segment"].get("words", [])]
            finals[m["segment"]["segment_id"]].extend(words)
    total = sum(len(words) for words in shown.values())
    kept = sum(len(lcs_pairs(words, finals.get(sid, []))) for sid, words in shown.items())
    return {
        "shown_words": total,
        "revised_words": total - kept,
        "revised_share": round((total - kept) / total, 4) if total else None,
        "utterances_with_partials": len(shown),
        "partials": sum(1 for _, m in received if m["type"] == "transcript_partial"),
    }


def percentiles(values: Sequence[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)

    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 3),
    }


def word_timing(
    turns: Sequence[dict[str, Any]],
    received: Sequence[Message],
    time_sent: Callable[[float], float],
) -> dict[str, Any]:
    """Latency distributions per reference word and per utterance, with their drift."""
    refs = reference_words(turns)
    finals = final_words(received)
    first: list[tuple[float, float]] = []  # (audio time, latency)
    final: list[tuple[float, float]] = []
    utterance_final: list[float] = []
    for i, j in lcs_pairs([r.text for r in refs], [w.text for w in finals]):
        ref, word = refs[i], finals[j]
        sent = time_sent(ref.end)
        first.append((ref.end, word.shown_at - sent))
        final.append((ref.end, word.final_at - sent))
        if ref.last_in_turn:
            utterance_final.append(word.final_at - sent)
    third = (refs[-1].end if refs else 0.0) / 3
    return {
        "reference_word_times": "proportional to characters within each synthesised utterance",
        "words_in_reference": len(refs),
        "words_matched": len(first),
        "word_end_to_first_shown_s": percentiles([v for _, v in first]),
        "word_end_to_final_s": percentiles([v for _, v in final]),
        "utterance_end_to_final_s": percentiles(utterance_final),
        "first_shown_by_third_s": {
            "first_third_p50": _median([v for t, v in first if t < third]),
            "last_third_p50": _median([v for t, v in first if t >= 2 * third]),
        },
        "final_by_third_s": {
            "first_third_p50": _median([v for t, v in final if t < third]),
            "last_third_p50": _median([v for t, v in final if t >= 2 * third]),
        },
        "revisions": revision_share(received),
    }


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None
