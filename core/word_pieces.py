"""Whole words from an ASR's word pieces.

faster-whisper splits a word at punctuation inside it: " off-site" comes back as " off" and
"-site", " 200,000" as " 200" and ",000". Its word texts keep the leading space that starts a
word, so a piece without one continues the word before it. Stripped and joined with spaces,
the pieces would read "off -site" in every transcript, caption and export.

Chinese, Japanese, Thai, Lao, Khmer, Burmese and Tibetan are written without spaces between
words: their words are joined directly (``join_texts``), or a Chinese line would read
"今天 天气 好 。".
"""

from __future__ import annotations

from collections.abc import Sequence

from core.types import Word


def whole_words(pieces: Sequence[Word]) -> list[Word]:
    """``pieces`` (texts as the ASR gave them, leading spaces kept) as words with stripped text.

    In a language written without spaces (no piece after the first starts with one: Chinese,
    Japanese, Thai) every piece is a word of its own.
    """
    spaced = any(p.word[:1].isspace() for p in pieces[1:])
    words: list[Word] = []
    for piece in pieces:
        text = piece.word.strip()
        if not text:
            continue
        if spaced and words and not piece.word[:1].isspace():
            last = words[-1]
            words[-1] = Word(
                last.word + text,
                last.start,
                max(last.end, piece.end),
                min(last.probability, piece.probability),
            )
        else:
            words.append(Word(text, piece.start, piece.end, piece.probability))
    return words


# Scripts written without spaces between words, and the CJK punctuation that goes with them.
# (Korean, in Hangul, puts spaces between words.)
_UNSPACED_RANGES = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3000, 0x30FF),  # CJK symbols and punctuation, Hiragana, Katakana
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF00, 0xFFEF),  # full-width punctuation and forms, half-width Katakana
    (0x20000, 0x2FFFF),  # CJK extensions B and later
)


def _unspaced(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _UNSPACED_RANGES)


def join_texts(words: Sequence[str]) -> str:
    """Whole words' texts as a line: single spaces, except where either side of a boundary
    is written without spaces ("今天天气好。", and "用Python写" in mixed text)."""
    line = ""
    for text in (" ".join(w.split()) for w in words):
        line += separator(line, text) + text
    return line


def separator(before: str, after: str) -> str:
    """What goes between two texts joined as in ``join_texts``."""
    if not before or not after or _unspaced(before[-1]) or _unspaced(after[0]):
        return ""
    return " "
