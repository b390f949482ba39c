"""Per-word live timing: reference word times, first-shown vs final latency, revisions."""

from __future__ import annotations

from typing import Any

import pytest

from benchmarks.live_words import reference_words, revision_share, word_timing

TURNS = [
    {"speaker": "A", "start": 1.0, "end": 3.0, "text": "Ship it Friday."},
    {"speaker": "B", "start": 4.0, "end": 5.0, "text": "Agreed."},
]


def partial(sid: str, words: list[str], rev: int) -> dict[str, Any]:
    return {
        "type": "transcript_partial",
        "segment_id": sid,
        "revision": rev,
        "text": " ".join(words),
        "words": [{"word": w, "start": 0, "end": 0} for w in words],
    }


def final(sid: str, words: list[str]) -> dict[str, Any]:
    segment = {"segment_id": sid, "text": " ".join(words), "words": [{"word": w} for w in words]}
    return {"type": "transcript", "seq": 1, "segment": segment}


def test_reference_word_ends_are_spread_by_characters_within_the_turn() -> None:
    words = reference_words(TURNS)
    assert [w.text for w in words] == ["ship", "it", "friday", "agreed"]
    assert words[2].end == pytest.approx(3.0) and words[3].end == pytest.approx(5.0)
    assert words[0].end == pytest.approx(1.0 + 2.0 * 5 / 16)
    assert [w.last_in_turn for w in words] == [False, False, True, True]


def test_first_shown_comes_from_partials_and_final_from_the_final_line() -> None:
    received = [
        (3.5, partial("u0", ["ship", "it"], 0)),
        (3.8, partial("u0", ["ship", "it", "friday"], 1)),
        (4.0, final("u0", ["Ship", "it", "Friday."])),
        (5.6, final("u1", ["Agreed."])),
    ]
    timing = word_timing(TURNS, received, lambda audio_s: audio_s)  # sent exactly on time
    assert timing["words_matched"] == 4
    first, last = timing["word_end_to_first_shown_s"], timing["word_end_to_final_s"]
    assert first["n"] == 4 and last["n"] == 4
    # "ship" ended at 1.625 s and was shown at 3.5 s; "agreed" was never a partial (final 5.6 s).
    assert first["max"] == pytest.approx(3.5 - (1.0 + 2.0 * 5 / 16), abs=1e-3)
    assert timing["utterance_end_to_final_s"]["p50"] == pytest.approx(0.8, abs=1e-3)
    assert timing["revisions"]["revised_words"] == 0


def test_revision_share_counts_shown_words_the_final_did_not_keep() -> None:
    received = [
        (1.0, partial("u0", ["so", "the", "bill"], 0)),
        (2.0, final("u0", ["So", "the", "build", "goes."])),
        (3.0, partial("u1", ["uh"], 0)),  # withdrawn: no final ever came
    ]
    share = revision_share(received)
    assert (share["shown_words"], share["revised_words"]) == (4, 2)
    assert share["revised_share"] == 0.5
