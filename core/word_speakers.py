"""Which speaker each ASR word belongs to, decided for the whole word sequence at once.

Whisper's word times drift by a few hundred milliseconds, worst on one-word answers: "Yes."
timed 0.4 s late lands in the *next* speaker's turn. Deciding word by word then gives both of
two quick "Yes." answers to the second speaker and leaves the first speaker's turn empty.

When speakers take turns (no overlapping speech), words and turns are both in time order, so
the assignment is monotone. A dynamic programme finds the in-order assignment with the least
total cost:
- the distance in seconds between each word and its turn;
- ``EMPTY_TURN_COST_S`` for every turn of real length left without a word (a word moves to a
  neighbouring turn only when that turn would otherwise be empty, and only when it is near);
- ``MID_SENTENCE_CHANGE_COST_S`` for changing speaker between two words of one sentence, so a
  sentence's last word does not move to a turn whose own words the ASR missed.
With overlapping speech the order is not monotone; the caller then decides word by word.

Before that, a short turn between two turns of one speaker goes when the words in it carry
that speaker's sentence straight through (``inside_sentences``): someone's "Mm-hmm." under a
sentence leaves a turn of their voice in the diarization, but the ASR writes the sentence.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from core.types import SpeakerTurn, Word

EMPTY_TURN_COST_S = 0.4  # about Whisper's word-time drift on short answers
MID_SENTENCE_CHANGE_COST_S = 0.5  # above the empty-turn cost: sentences rarely change voice
MIN_SPOKEN_TURN_S = 0.3  # shorter turns (a cough, a click) may stay empty at no charge
MAX_SEQUENTIAL_OVERLAP_S = 0.25  # turns overlapping more than this are overlapping speech
# Longest turn ``inside_sentences`` may drop: a backchannel (about 1 s) smeared over the
# embedded diarizer's overlapping 1.6 s slices makes turns of 0.8-2.4 s.
MAX_INSIDE_TURN_S = 2.5
SENTENCE_ENDS = (".", "?", "!", "\u2026", "\u3002", "\uff1f", "\uff01")  # and CJK full stops


def is_sequential(turns: Sequence[SpeakerTurn]) -> bool:
    """Turns (sorted by start) that follow each other, allowing diarization's ragged edges."""
    return all(b.start > a.end - MAX_SEQUENTIAL_OVERLAP_S for a, b in itertools.pairwise(turns))


def speakers_in_order(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> list[str]:
    """The speaker of each word; ``words`` sorted by time, ``turns`` sorted and sequential."""
    merged = merge_same_speaker(inside_sentences(words, merge_same_speaker(turns)))
    return [merged[j].speaker for j in assign_in_order(words, merged)]


def inside_sentences(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> list[SpeakerTurn]:
    """``turns`` (speakers alternating) without each short turn that sits between two turns
    of one speaker while the words in it continue a sentence begun before it and end none.

    Those words are the surrounding speaker's: the turn is another voice heard under their
    sentence (a backchannel, an interjection) or a mixture the diarizer could not split. A
    real answer between two turns ("today?" "Yes." "Great.") ends a sentence and stays."""
    kept = list(turns)
    for k in range(len(turns) - 2, 0, -1):
        before, turn, after = turns[k - 1], turns[k], turns[k + 1]
        if (
            before.speaker == after.speaker
            and turn.end - turn.start <= MAX_INSIDE_TURN_S
            and _continues_sentence(words, turn)
        ):
            del kept[k]
    return kept


def _continues_sentence(words: Sequence[Word], turn: SpeakerTurn) -> bool:
    """Words fall in ``turn``, none ends a sentence, and the word before them ends none."""
    inside = [i for i, w in enumerate(words) if turn.start <= (w.start + w.end) / 2 <= turn.end]
    if not inside or inside[0] == 0:
        return False
    return not any(ends_sentence(words[i]) for i in [inside[0] - 1, *inside])


def merge_same_speaker(turns: Sequence[SpeakerTurn]) -> list[SpeakerTurn]:
    """Consecutive turns of one speaker as one turn: moving between them changes nothing."""
    merged: list[SpeakerTurn] = []
    for turn in turns:
        if merged and merged[-1].speaker == turn.speaker:
            last = merged[-1]
            merged[-1] = SpeakerTurn(last.start, max(last.end, turn.end), last.speaker)
        else:
            merged.append(turn)
    return merged


def assign_in_order(words: Sequence[Word], turns: Sequence[SpeakerTurn]) -> list[int]:
    """Index into ``turns`` for each word, non-decreasing, of least total cost (see above)."""
    if not words or not turns:
        return []
    starts = np.array([t.start for t in turns])
    ends = np.array([t.end for t in turns])
    spoken = (ends - starts >= MIN_SPOKEN_TURN_S).astype(float)
    # empty_before[j]: spoken turns with index < j; the turns strictly between k and j
    # number empty_before[j] - empty_before[k + 1].
    empty_before = np.concatenate([[0.0], np.cumsum(spoken)])
    charge = EMPTY_TURN_COST_S
    best = _distance(words[0], starts, ends) + charge * empty_before[:-1]
    back: list[np.ndarray] = []
    for previous, word in itertools.pairwise(words):
        change = 0.0 if ends_sentence(previous) else MID_SENTENCE_CHANGE_COST_S
        earlier, earlier_at = _prefix_min_before(best - charge * empty_before[1:])
        move = charge * empty_before[:-1] + earlier + change
        back.append(np.where(best <= move, np.arange(len(turns)), earlier_at))
        best = _distance(word, starts, ends) + np.minimum(best, move)
    total = best + charge * (empty_before[-1] - empty_before[1:])  # turns after the last word
    j = int(np.argmin(total))
    path = [j]
    for pointers in reversed(back):
        j = int(pointers[j])
        path.append(j)
    return path[::-1]


def ends_sentence(word: Word) -> bool:
    return word.word.strip().endswith(SENTENCE_ENDS)


def _distance(word: Word, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Seconds between the word and each turn; overlap breaks ties toward the larger one."""
    gap = np.maximum(0.0, np.maximum(starts - word.end, word.start - ends))
    overlap = np.maximum(0.0, np.minimum(ends, word.end) - np.maximum(starts, word.start))
    return gap - 1e-3 * overlap


def _prefix_min_before(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each j: the smallest ``values[k]`` over k < j (inf for j = 0) and the first such k.
    Vectorised: it runs once per word of every window."""
    running = np.minimum.accumulate(values)
    before = np.concatenate([[np.inf], running[:-1]])
    # Where a value undercuts everything before it, the prefix minimum moves there.
    moves = np.where(values < before, np.arange(len(values)), 0)
    first_at = np.maximum.accumulate(moves)
    return before, np.concatenate([[0], first_at[:-1]])
