"""Local agreement (LocalAgreement-2) over repeated decodes of one open utterance.

A live utterance is re-decoded every half second or so while it is still open. Whisper's last
words on truncated audio are guesses that change from one decode to the next, so showing each
hypothesis as is would make the caption flicker. The policy, after whisper_streaming's
``HypothesisBuffer``: a word becomes *stable* once two consecutive hypotheses agree on it and on
every word before it. Stable words are never taken back while the utterance is open (only the
final decode of the whole utterance may differ; ``revised_words`` counts how often it does).

Unlike whisper_streaming, which trims its audio buffer and decodes only past the committed
words, each hypothesis here covers the whole open utterance, so the words after the stable
part are found by time (a word that starts before the last stable word ends is already
covered) plus an n-gram overlap check for words whose timestamps wobble between decodes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from core.types import Word

TIME_TOLERANCE_S = 0.1  # word boundaries move this much between decodes of the same audio
MAX_OVERLAP_WORDS = 5  # longest repeat of the stable tail that is recognised and skipped
_NOT_WORD = re.compile(r"[^\w']+")


def normalize(word: str) -> str:
    """The comparable form of a word: case and punctuation do not make words differ."""
    return _NOT_WORD.sub("", word.lower())


@dataclass
class LocalAgreement:
    """Stable-prefix tracker for one open utterance (times relative to the utterance start)."""

    stable: list[Word] = field(default_factory=list)
    tail: list[Word] = field(default_factory=list)  # the last hypothesis past the stable words

    def update(self, hypothesis: Sequence[Word]) -> list[Word]:
        """Take a new decode of the utterance so far; returns the words that became stable."""
        new_tail = self._beyond_stable(hypothesis)
        agreed = 0
        for old, new in zip(self.tail, new_tail, strict=False):
            if normalize(old.word) != normalize(new.word):
                break
            agreed += 1
        committed = list(new_tail[:agreed])
        self.stable.extend(committed)
        self.tail = list(new_tail[agreed:])
        return committed

    def _beyond_stable(self, hypothesis: Sequence[Word]) -> list[Word]:
        """The hypothesis words that come after the stable words."""
        if not self.stable:
            return [w for w in hypothesis if normalize(w.word)]
        stable_end = self.stable[-1].end
        later = [
            w for w in hypothesis if w.start > stable_end - TIME_TOLERANCE_S and normalize(w.word)
        ]
        return later[self._overlap(later) :]

    def _overlap(self, later: Sequence[Word]) -> int:
        """How many leading words of ``later`` repeat the end of the stable words."""
        longest = min(len(self.stable), len(later), MAX_OVERLAP_WORDS)
        for n in range(longest, 0, -1):
            stable_end = [normalize(w.word) for w in self.stable[-n:]]
            if stable_end == [normalize(w.word) for w in later[:n]]:
                return n
        return 0


def revised_words(shown: Sequence[Word], final: Sequence[Word]) -> int:
    """How many of the ``shown`` (stable) words the final text does not keep, in order.

    Counted as shown words outside the longest common subsequence of the two word lists, so an
    inserted or a corrected word elsewhere does not make every later word count as revised.
    """
    a = [normalize(w.word) for w in shown]
    b = [normalize(w.word) for w in final]
    if not a:
        return 0
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return len(a) - previous[-1]
