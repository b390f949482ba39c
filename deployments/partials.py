"""Partial transcripts of the open live utterance: budget, stable words, revision counting.

A partial is a transcription-only re-decode of the audio since the last cut (the utterance that
is still open), run through local agreement so shown words rarely change. It is a luxury:
finals and other meetings come first, so a partial is skipped (never queued) when the session
has finals waiting or the Processor-wide budget of partials in flight is used up.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.agreement import LocalAgreement, revised_words
from core.types import Word
from core.word_pieces import join_texts
from deployments.metrics import record_partial_words

SENTENCE_END = (".", "?", "!", "\u3002", "\uff1f", "\uff01", "\u061f", "\u0964")
# Whisper ends audio that stops mid-sentence with a full stop, so a pause's punctuation is
# only believed from a decode that heard the words after it: at least this much speech past
# the pause (offline, standup3's first 10 minutes: a decode that stopped at the pause ended
# 66 utterances, many mid-sentence, and cost 3.8 points of WER; one that heard 0.3 s more
# ended 21 and found all but 3 of the turn changes the first did).
SENTENCE_FOLLOW_S = 0.3
SENTENCE_PAST_S = 0.1  # its full stop may be timed just past the pause's start
SENTENCE_NEAR_S = 0.6  # its last word ends this close to the pause (timestamps wobble)


class PartialBudget:
    """Partial decodes in flight across every live session of one Processor (non-blocking)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0

    def try_acquire(self) -> bool:
        if self.in_flight >= self.limit:
            return False
        self.in_flight += 1
        return True

    def release(self) -> None:
        self.in_flight = max(self.in_flight - 1, 0)


@dataclass
class OpenUtterance:
    """What has been shown of the utterance being spoken (times relative to its start)."""

    segment_id: str
    start_s: float  # meeting time of the utterance audio's first sample
    agreement: LocalAgreement = field(default_factory=LocalAgreement)
    # Of the last published partial; -1: none. Numbered per session, not per utterance, so a
    # segment_id reused after a withdrawal still gets increasing revisions.
    revision: int = -1
    pending_text: str = ""
    heard_s: float = 0.0  # how much of the utterance's audio the last decode covered
    # The last decode as it came (stable words keep the punctuation of the decode that
    # agreed on them; a full stop appears once a decode hears the pause)
    last_hypothesis: list[Word] = field(default_factory=list)

    @property
    def shown(self) -> bool:
        return self.revision >= 0

    def update(self, hypothesis: list[Word], heard_s: float) -> bool:
        """Feed a decode of the first ``heard_s`` seconds; True when the partial to show
        changed (stable words or the guess)."""
        self.heard_s = heard_s
        self.last_hypothesis = hypothesis
        committed = self.agreement.update(hypothesis)
        pending = join_texts([w.word for w in self.agreement.tail])
        changed = bool(committed) or pending != self.pending_text
        self.pending_text = pending
        return changed

    def ends_sentence(self, speech_end_s: float, heard_until_s: float) -> bool | None:
        """Whether the last decode ends a sentence at ``speech_end_s`` (utterance time), where
        a pause begins: None when it did not hear up to ``heard_until_s``, so it cannot tell."""
        if self.heard_s < heard_until_s:
            return None
        limit = speech_end_s + SENTENCE_PAST_S
        before = [w for w in self.last_hypothesis if w.end <= limit]
        if not before:
            return False
        last = before[-1]
        return last.word.endswith(SENTENCE_END) and last.end >= speech_end_s - SENTENCE_NEAR_S

    def stable_words(self) -> list[Word]:
        return [w.shifted(self.start_s) for w in self.agreement.stable]

    def pending_words(self) -> list[Word]:
        return [w.shifted(self.start_s) for w in self.agreement.tail]

    def record_final(self, final_words: list[Word]) -> tuple[int, int]:
        """Count shown words against the final text: (shown, revised); recorded as metrics."""
        shown = self.agreement.stable
        revised = revised_words(shown, final_words)
        record_partial_words(len(shown), revised)
        return len(shown), revised
