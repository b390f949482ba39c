"""Whole words from an ASR's word pieces.

faster-whisper splits a word at punctuation inside it: " off-site" comes back as " off" and
"-site", " 200,000" as " 200" and ",000". Its word texts keep the leading space that starts a
word, so a piece without one continues the word before it. Stripped and joined with spaces,
the pieces would read "off -site" in every transcript, caption and export.
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
