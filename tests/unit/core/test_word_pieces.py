from __future__ import annotations

from core.types import Word
from core.word_pieces import whole_words


def test_a_piece_without_a_leading_space_continues_the_word_before_it() -> None:
    pieces = [
        Word(" the", 0.0, 0.2, 0.9),
        Word(" off", 0.2, 0.4, 0.8),
        Word("-site", 0.4, 0.9, 0.6),
        Word(" 200", 1.0, 1.3, 0.9),
        Word(",000.", 1.3, 1.8, 0.7),
    ]
    assert whole_words(pieces) == [
        Word("the", 0.0, 0.2, 0.9),
        Word("off-site", 0.2, 0.9, 0.6),
        Word("200,000.", 1.0, 1.8, 0.7),
    ]


def test_the_first_piece_starts_a_word_with_or_without_a_space() -> None:
    assert whole_words([Word("Hello", 0.0, 0.3), Word(" there", 0.3, 0.6)]) == [
        Word("Hello", 0.0, 0.3),
        Word("there", 0.3, 0.6),
    ]


def test_languages_written_without_spaces_keep_every_piece() -> None:
    pieces = [
        Word("\u4eca\u5929", 0.0, 0.4),
        Word("\u5929\u6c14", 0.4, 0.8),
        Word("\u597d", 0.8, 1.0),
    ]
    assert [w.word for w in whole_words(pieces)] == ["\u4eca\u5929", "\u5929\u6c14", "\u597d"]


def test_blank_pieces_are_dropped() -> None:
    assert whole_words([Word(" ", 0.0, 0.1), Word(" yes", 0.1, 0.4)]) == [Word("yes", 0.1, 0.4)]
