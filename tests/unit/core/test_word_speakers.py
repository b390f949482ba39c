"""Words matched to speaker turns in order (core.word_speakers), on Whisper-like drifted times."""

from __future__ import annotations

from core.alignment import align_words, assign_speaker, word_speakers
from core.types import SpeakerTurn, Word
from core.word_speakers import assign_in_order, is_sequential, merge_same_speaker


def w(text: str, start: float, end: float) -> Word:
    return Word(text, start, end, 0.9)


QUICK_TURNS = [
    SpeakerTurn(0.4, 2.5, "A"),
    SpeakerTurn(2.6, 3.2, "B"),  # B: "Yes."
    SpeakerTurn(3.4, 4.0, "C"),  # C: "Yes."
    SpeakerTurn(4.7, 8.1, "A"),
]


def test_two_late_one_word_answers_fill_both_turns() -> None:
    # Whisper timed B's "Yes." 0.2 s into C's turn and C's "Yes." in the gap after it.
    words = [w("Can", 0.5, 0.9), w("you?", 0.9, 2.4), w("Yes.", 3.4, 3.5), w("Yes.", 4.3, 4.3)]
    words += [w("Good.", 4.8, 5.3)]
    assert word_speakers(words, QUICK_TURNS) == ["A", "A", "B", "C", "A"]


def test_a_sentence_keeps_its_last_word_when_the_next_turn_was_not_transcribed() -> None:
    # B spoke in 2.6-3.2 but the ASR missed it; "now?" overlaps B's turn a little.
    words = [w("Can", 0.5, 0.9), w("you", 0.9, 1.2), w("see", 1.2, 2.1), w("now?", 2.1, 2.7)]
    words += [w("Yes.", 3.5, 3.8), w("Good.", 4.8, 5.3)]
    assert word_speakers(words, QUICK_TURNS) == ["A", "A", "A", "A", "C", "A"]


def test_a_distant_word_never_moves_to_fill_an_empty_turn() -> None:
    turns = [SpeakerTurn(0.0, 2.0, "A"), SpeakerTurn(5.0, 6.0, "B"), SpeakerTurn(6.1, 9.0, "A")]
    words = [w("One.", 0.2, 1.8), w("Two.", 6.5, 7.0)]
    assert word_speakers(words, turns) == ["A", "A"]


def test_a_long_speech_changes_speaker_where_the_turns_do() -> None:
    turns = [SpeakerTurn(0.0, 3.0, "A"), SpeakerTurn(3.2, 6.0, "B")]
    words = [w(f"a{i}", 0.3 * i, 0.3 * i + 0.25) for i in range(10)]
    words += [w(f"b{i}", 3.3 + 0.3 * i, 3.55 + 0.3 * i) for i in range(9)]
    assert word_speakers(words, turns) == ["A"] * 10 + ["B"] * 9


def test_overlapping_speech_is_decided_word_by_word() -> None:
    turns = [SpeakerTurn(0.0, 4.0, "A"), SpeakerTurn(1.0, 2.0, "B")]
    assert not is_sequential(turns)
    words = [w("a", 0.2, 0.6), w("b", 1.2, 1.8), w("c", 2.5, 3.0)]
    assert word_speakers(words, turns) == [assign_speaker(word, turns) for word in words]


def test_ragged_edges_still_count_as_taking_turns() -> None:
    assert is_sequential([SpeakerTurn(0.0, 2.1, "A"), SpeakerTurn(2.0, 3.0, "B")])


def test_consecutive_turns_of_one_speaker_merge() -> None:
    turns = [SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(1.5, 2.0, "A"), SpeakerTurn(2.5, 3.0, "B")]
    assert merge_same_speaker(turns) == [SpeakerTurn(0.0, 2.0, "A"), SpeakerTurn(2.5, 3.0, "B")]


def test_assignment_is_monotone_and_covers_every_word() -> None:
    turns = [SpeakerTurn(float(i), i + 0.8, "AB"[i % 2]) for i in range(40)]
    words = [w(f"x{i}.", i * 0.37, i * 0.37 + 0.2) for i in range(100)]
    path = assign_in_order(words, turns)
    assert len(path) == 100 and path == sorted(path)


def test_segments_split_where_the_in_order_speakers_change() -> None:
    words = [w("Can", 0.5, 0.9), w("you?", 0.9, 2.4), w("Yes.", 3.4, 3.5), w("Yes.", 4.3, 4.3)]
    words += [w("Good.", 4.8, 5.3)]
    segments = align_words(words, QUICK_TURNS, window=0, window_offset=10.0)
    assert [(s.speaker, s.text) for s in segments] == [
        ("A", "Can you?"),
        ("B", "Yes."),
        ("C", "Yes."),
        ("A", "Good."),
    ]
    assert segments[1].start == 13.4


def test_prefix_minimum_before_each_index_matches_its_definition() -> None:
    import numpy as np

    from core.word_speakers import _prefix_min_before

    rng = np.random.default_rng(7)
    for _ in range(200):
        values = rng.integers(0, 5, size=rng.integers(1, 12)).astype(float)
        minima, where = _prefix_min_before(values)
        assert minima[0] == np.inf and where[0] == 0
        for j in range(1, len(values)):
            assert minima[j] == values[:j].min()
            assert where[j] == int(np.argmin(values[:j]))  # the first of equal minima


# A speaks 0-8 s; a "Mm-hmm." of B under A's sentence left B a turn of 1.6 s in the middle.
BACKCHANNEL_TURNS = [
    SpeakerTurn(0.4, 4.2, "A"),
    SpeakerTurn(4.2, 5.8, "B"),
    SpeakerTurn(5.8, 8.5, "A"),
]


def test_a_turn_under_a_sentence_that_runs_through_it_keeps_no_words() -> None:
    words = [w("The", 2.8, 3.0), w("main", 3.0, 3.4), w("thing", 3.4, 4.0), w("is", 4.3, 4.5)]
    words += [w("the", 4.5, 4.7), w("release", 4.7, 5.5), w("of", 5.9, 6.1), w("the", 6.1, 6.3)]
    words += [w("portal.", 6.3, 7.0)]
    assert set(word_speakers(words, BACKCHANNEL_TURNS)) == {"A"}


def test_an_answer_between_two_turns_of_one_speaker_keeps_its_words() -> None:
    # The same turns, but B's words end a sentence: a real answer, kept.
    words = [w("Ship", 2.8, 3.2), w("Friday?", 3.2, 4.0), w("Yes,", 4.3, 4.8), w("sure.", 4.8, 5.5)]
    words += [w("Great.", 6.0, 6.6)]
    assert word_speakers(words, BACKCHANNEL_TURNS) == ["A", "A", "B", "B", "A"]


def test_a_long_turn_inside_a_sentence_stays() -> None:
    # Over MAX_INSIDE_TURN_S: too much speech to be a voice heard under the sentence.
    turns = [SpeakerTurn(0.0, 3.0, "A"), SpeakerTurn(3.0, 6.0, "B"), SpeakerTurn(6.0, 9.0, "A")]
    words = [w("We", 1.0, 2.0), w("think", 3.5, 4.5), w("that", 4.5, 5.5), w("works.", 6.5, 7.5)]
    assert word_speakers(words, turns) == ["A", "B", "B", "A"]
