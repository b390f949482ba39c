from __future__ import annotations

import pytest

from benchmarks.scoring import (
    Span,
    SpeakerText,
    concatenated_min_permutation_wer,
    diarization_error_rate,
    jaccard_error_rate,
    speaker_texts,
    word_error_rate,
    word_errors,
)

REFERENCE = [
    SpeakerText("alice", 0.0, "good morning everyone"),
    SpeakerText("bob", 2.0, "thanks carol"),
    SpeakerText("alice", 4.0, "let us begin"),
]


def test_word_errors_counts_every_edit() -> None:
    assert word_errors("a b c", "a x c d") == 2  # one substitution, one insertion
    assert word_errors("", "two words") == 2
    assert word_errors("Hello, World!", "") == 2
    assert word_errors("", "") == 0


def test_cpwer_is_zero_for_relabelled_speakers() -> None:
    hypothesis = [
        SpeakerText("SPEAKER_01", 0.0, "Good morning, everyone."),
        SpeakerText("SPEAKER_00", 2.1, "Thanks, Carol."),
        SpeakerText("SPEAKER_01", 4.0, "Let us begin."),
    ]
    assert concatenated_min_permutation_wer(REFERENCE, hypothesis) == 0.0


def test_cpwer_counts_words_given_to_the_wrong_speaker() -> None:
    # Perfect words, but "let us begin" attributed to bob's label: 3 deletions for alice's
    # stream and 3 insertions in bob's, over 8 reference words.
    hypothesis = [
        SpeakerText("A", 0.0, "good morning everyone"),
        SpeakerText("B", 2.0, "thanks carol"),
        SpeakerText("B", 4.0, "let us begin"),
    ]
    assert concatenated_min_permutation_wer(REFERENCE, hypothesis) == pytest.approx(6 / 8)
    # Plain WER over the same words in time order sees no error at all.
    assert word_error_rate("good morning everyone thanks carol let us begin",
                           "good morning everyone thanks carol let us begin") == 0.0  # fmt: skip


def test_cpwer_charges_an_extra_hypothesis_speaker_as_insertions() -> None:
    hypothesis = [
        SpeakerText("A", 0.0, "good morning everyone let us begin"),
        SpeakerText("B", 2.0, "thanks carol"),
        SpeakerText("C", 9.0, "uh huh"),
    ]
    assert concatenated_min_permutation_wer(REFERENCE, hypothesis) == pytest.approx(2 / 8)


def test_speaker_texts_reads_turns_and_wire_segments() -> None:
    rows = [{"speaker": "SPEAKER_00", "start": 1, "end": 2, "text": "hi", "window": 0}]
    assert speaker_texts(rows) == [SpeakerText("SPEAKER_00", 1.0, "hi")]


def test_jer_and_der_are_zero_for_a_relabelled_perfect_diarization() -> None:
    reference = [Span(0, 10, "alice"), Span(10, 20, "bob")]
    hypothesis = [Span(0, 10, "S1"), Span(10, 20, "S0")]
    assert jaccard_error_rate(reference, hypothesis) == pytest.approx(0.0)
    assert diarization_error_rate(reference, hypothesis) == pytest.approx(0.0)


def test_jer_averages_per_speaker_jaccard_errors() -> None:
    # bob's hypothesis covers half of his speech: bob's Jaccard error 0.5, alice's 0.
    reference = [Span(0, 10, "alice"), Span(10, 20, "bob")]
    hypothesis = [Span(0, 10, "S1"), Span(10, 15, "S0")]
    assert jaccard_error_rate(reference, hypothesis) == pytest.approx(0.25)
