"""Local agreement: stable words need two agreeing decodes and are never taken back."""

from __future__ import annotations

from core.agreement import LocalAgreement, normalize, revised_words
from core.types import Word


def words(text: str, start: float = 0.0, step: float = 0.4) -> list[Word]:
    return [Word(w, start + i * step, start + i * step + 0.3) for i, w in enumerate(text.split())]


def texts(ws: list[Word]) -> list[str]:
    return [w.word for w in ws]


def test_a_word_is_stable_once_two_consecutive_decodes_agree() -> None:
    agreement = LocalAgreement()
    assert agreement.update(words("so the")) == []
    assert texts(agreement.update(words("so the bill"))) == ["so", "the"]
    assert texts(agreement.tail) == ["bill"]
    assert texts(agreement.update(words("so the build goes"))) == []
    assert texts(agreement.update(words("so the build goes out"))) == ["build", "goes"]
    assert texts(agreement.stable) == ["so", "the", "build", "goes"]


def test_stable_words_are_kept_when_a_later_decode_rewrites_them() -> None:
    agreement = LocalAgreement()
    agreement.update(words("we ship friday"))
    agreement.update(words("we ship friday now"))
    agreement.update(words("we shipped friday now please"))  # early words re-decoded differently
    assert texts(agreement.stable) == ["we", "ship", "friday", "now"]


def test_case_and_punctuation_do_not_break_agreement() -> None:
    agreement = LocalAgreement()
    agreement.update(words("Hello, everyone"))
    assert texts(agreement.update(words("hello everyone."))) == ["hello", "everyone."]
    assert normalize("Don't!") == "don't"


def test_words_repeated_with_shifted_times_are_not_shown_twice() -> None:
    agreement = LocalAgreement()
    agreement.update(words("one two three"))
    agreement.update(words("one two three four"))
    # Timestamps moved later by half a second: "two three" now looks like new words by time.
    shifted = [Word(w.word, w.start + 0.5, w.end + 0.5) for w in words("one two three four five")]
    agreement.update(shifted)
    agreement.update(shifted)
    assert texts(agreement.stable) == ["one", "two", "three", "four", "five"]


def test_revised_words_counts_shown_words_the_final_dropped_or_changed() -> None:
    shown = words("so the bill goes")
    assert revised_words(shown, words("So the build goes out on Friday.")) == 1
    assert revised_words(shown, words("so the bill goes")) == 0
    assert revised_words([], words("anything")) == 0
    assert revised_words(shown, words("so uh the bill goes")) == 0  # an insertion is no revision
