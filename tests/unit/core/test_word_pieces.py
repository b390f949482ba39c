from __future__ import annotations

import pytest

from core.types import Word
from core.word_pieces import join_texts, separator, whole_words


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


@pytest.mark.parametrize(
    ("words", "line"),
    [
        (["今天", "天气", "好", "。"], "今天天气好。"),  # Chinese
        (["今日", "は", "いい", "天気", "です", "ね", "。"], "今日はいい天気ですね。"),  # Japanese
        (["วันนี้", "อากาศ", "ดี"], "วันนี้อากาศดี"),  # Thai
        (["我", "用", "Python", "写", "代码"], "我用Python写代码"),  # Latin inside Chinese
        (["안녕하세요", "여러분"], "안녕하세요 여러분"),  # Korean puts spaces between words
        (["Hello,", " world ", "", "again"], "Hello, world again"),
        (["Ciao", "a", "tutti"], "Ciao a tutti"),
    ],
)
def test_lines_are_joined_with_spaces_only_where_the_script_has_them(
    words: list[str], line: str
) -> None:
    assert join_texts(words) == line


def test_the_separator_continues_a_text_as_join_texts_does() -> None:
    texts = ["第一句。", "Second line.", "第三句", "end"]
    streamed = ""
    for text in texts:
        streamed += separator(streamed, text) + text
    assert streamed == join_texts(texts) == "第一句。Second line.第三句end"
