from __future__ import annotations

from core.alignment import UNKNOWN_SPEAKER, align_words, assign_speaker, join_words
from core.types import Segment, SpeakerTurn, Word

TURNS = [SpeakerTurn(0.0, 2.0, "A"), SpeakerTurn(2.0, 4.0, "B")]


def test_words_grouped_by_speaker_in_meeting_time() -> None:
    words = [
        Word("  Hello", 0.0, 0.4, 0.9),
        Word(" there.", 0.5, 0.9, 0.8),
        Word(" Hi", 2.1, 2.3),
        Word(" Bob.", 2.4, 2.8),
    ]
    segments = align_words(words, TURNS, window=3, window_offset=61.2)
    assert segments == [
        Segment(
            id="w3-0",
            speaker="A",
            text="Hello there.",
            start=61.2,
            end=62.1,
            window=3,
            words=[Word("Hello", 61.2, 61.6, 0.9), Word("there.", 61.7, 62.1, 0.8)],
        ),
        Segment(
            id="w3-1",
            speaker="B",
            text="Hi Bob.",
            start=63.3,
            end=64.0,
            window=3,
            words=[Word("Hi", 63.3, 63.5), Word("Bob.", 63.6, 64.0)],
        ),
    ]


def test_word_goes_to_turn_with_most_overlap() -> None:
    assert assign_speaker(Word("x", 1.8, 2.6), TURNS) == "B"
    assert assign_speaker(Word("x", 1.4, 2.2), TURNS) == "A"


def test_equal_overlap_goes_to_earlier_turn() -> None:
    assert assign_speaker(Word("x", 1.5, 2.5), TURNS) == "A"


def test_word_in_gap_goes_to_nearest_turn() -> None:
    turns = [SpeakerTurn(0.0, 1.0, "A"), SpeakerTurn(3.0, 4.0, "B")]
    assert assign_speaker(Word("x", 1.2, 1.4), turns) == "A"
    assert assign_speaker(Word("x", 2.6, 2.8), turns) == "B"
    assert assign_speaker(Word("x", 5.0, 5.0), turns) == "B"


def test_no_turns_uses_fallback_speaker() -> None:
    segments = align_words([Word(" Hi", 0.0, 0.5)], [], window=0, window_offset=0.0)
    assert [s.speaker for s in segments] == [UNKNOWN_SPEAKER]
    assert align_words([Word(" Hi", 0.0, 0.5)], [], 0, 0.0, fallback_speaker="SPEAKER_00")[
        0
    ].speaker == ("SPEAKER_00")


def test_long_pause_splits_same_speaker() -> None:
    turns = [SpeakerTurn(0.0, 10.0, "A")]
    words = [Word(" one", 0.0, 0.5), Word(" two", 1.4, 1.8), Word(" three", 2.9, 3.2)]
    segments = align_words(words, turns, window=0, window_offset=0.0, max_pause_s=1.0)
    assert [(s.id, s.text) for s in segments] == [("w0-0", "one two"), ("w0-1", "three")]


def test_long_segment_is_split() -> None:
    turns = [SpeakerTurn(0.0, 100.0, "A")]
    words = [Word(f" w{i}", i * 0.5, i * 0.5 + 0.4) for i in range(10)]
    segments = align_words(words, turns, 0, 0.0, max_segment_s=2.0)
    assert [s.text for s in segments] == ["w0 w1 w2 w3", "w4 w5 w6 w7", "w8 w9"]


def test_words_sorted_and_blank_words_dropped() -> None:
    words = [Word(" b", 1.0, 1.2), Word("   ", 0.5, 0.6), Word(" a", 0.0, 0.2)]
    segments = align_words(words, TURNS, 0, 0.0)
    assert [s.text for s in segments] == ["a b"]
    assert [w.word for w in segments[0].words] == ["a", "b"]


def test_empty_input_gives_no_segments() -> None:
    assert align_words([], TURNS, 0, 0.0) == []


def test_join_words_handles_both_spacing_styles() -> None:
    assert join_words([Word(" Hello", 0, 0), Word(",", 0, 0), Word("  world", 0, 0)]) == (
        "Hello, world"
    )
    assert join_words([Word("Hello", 0, 0), Word("world", 0, 0)]) == "Hello world"
    assert join_words([Word(" don", 0, 0), Word("'t", 0, 0), Word(" stop\n", 0, 0)]) == (
        "don't stop"
    )


def test_a_chinese_line_has_no_spaces_between_its_words() -> None:
    pieces = [Word("今天", 0, 0.4), Word("天气", 0.4, 0.8), Word("好", 0.8, 1.0), Word("。", 1, 1)]
    assert join_words(pieces) == "今天天气好。"
