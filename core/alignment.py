"""Attribute ASR words to diarization speakers and group them into transcript segments.

ASR and diarization run independently on the same window. When speakers take turns, words
are matched to turns in order (``core.word_speakers``: Whisper's word times drift, worst on
one-word answers); with overlapping speech each word is given to the speaker turn it overlaps
most (or the nearest turn when it falls in a gap between turns).
Segments break where the speaker changes, at long pauses, and before they grow too long to
read as one line. Input times are window-local; output times are meeting time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from core.types import Segment, SpeakerTurn, Word
from core.word_pieces import join_texts, whole_words
from core.word_speakers import ends_sentence, is_sequential, speakers_in_order

# Used when diarization found no speaker at all but ASR still produced words.
UNKNOWN_SPEAKER = "UNKNOWN"


def align_words(
    words: Sequence[Word],
    turns: Sequence[SpeakerTurn],
    window: int,
    window_offset: float,
    max_pause_s: float = 1.0,
    max_segment_s: float = 30.0,
    fallback_speaker: str = UNKNOWN_SPEAKER,
    labels: Mapping[str, str] | None = None,
) -> list[Segment]:
    """Speaker-attributed segments with ids ``w{window}-{n}`` in meeting time.

    ``labels`` gives the line's speaker for a turn's speaker key where they differ; two keys
    with one label make two lines where a sentence ends between them."""
    ordered_turns = sorted(turns, key=lambda t: (t.start, t.end))
    ordered = sorted((w for w in words if w.word.strip()), key=lambda w: (w.start, w.end))
    shown = labels or {}
    groups: list[list[Word]] = []
    keys: list[str] = []  # the key of each line's last word (a line's keys share one label)
    for word, key in zip(
        ordered, word_speakers(ordered, ordered_turns, fallback_speaker), strict=True
    ):
        if groups and not _starts_new_segment(
            keys[-1], groups[-1], key, word, shown, max_pause_s, max_segment_s
        ):
            groups[-1].append(word)
            keys[-1] = key
        else:
            groups.append([word])
            keys.append(key)
    return [
        _make_segment(f"w{window}-{n}", shown.get(key, key), group, window, window_offset)
        for n, (key, group) in enumerate(zip(keys, groups, strict=True))
    ]


def word_speakers(
    words: Sequence[Word], turns: Sequence[SpeakerTurn], fallback_speaker: str = UNKNOWN_SPEAKER
) -> list[str]:
    """Each word's speaker: in order over turns that follow each other (see
    ``core.word_speakers``), else word by word (overlapping speech is not monotone)."""
    if turns and is_sequential(turns):
        return speakers_in_order(words, turns)
    return [assign_speaker(word, turns, fallback_speaker) for word in words]


def assign_speaker(
    word: Word, turns: Sequence[SpeakerTurn], fallback_speaker: str = UNKNOWN_SPEAKER
) -> str:
    """The turn with maximal time overlap; else the nearest turn; ties go to the earlier turn."""
    if not turns:
        return fallback_speaker
    best = max(turns, key=lambda t: _overlap(word, t))  # max keeps the first of equals
    if _overlap(word, best) > 0:
        return best.speaker
    mid = (word.start + word.end) / 2
    return min(turns, key=lambda t: _distance(mid, t)).speaker


def join_words(words: Sequence[Word]) -> str:
    """Join word texts into a line with single spaces (none between words of a script written
    without them); pieces that continue a word (no leading space, faster-whisper's style)
    join it (``core.word_pieces.whole_words``)."""
    return join_texts([w.word for w in whole_words(words)])


def _overlap(word: Word, turn: SpeakerTurn) -> float:
    return max(0.0, min(word.end, turn.end) - max(word.start, turn.start))


def _distance(point: float, turn: SpeakerTurn) -> float:
    if point < turn.start:
        return turn.start - point
    return max(0.0, point - turn.end)


def _starts_new_segment(
    current_key: str,
    group: list[Word],
    key: str,
    word: Word,
    labels: Mapping[str, str],
    max_pause_s: float,
    max_segment_s: float,
) -> bool:
    return (
        _changes_voice(current_key, key, group[-1], labels)
        or word.start - group[-1].end > max_pause_s
        or word.end - group[0].start > max_segment_s
    )


def _changes_voice(before: str, after: str, last: Word, labels: Mapping[str, str]) -> bool:
    """Another speaker; or another voice under the same label (a short voice keyed apart, see
    ``core.short_turns``) once a sentence has ended. Within a sentence the line stays whole:
    a diarizer splits "Carol, can you ..." after the name far more often than people cut in."""
    if before == after:
        return False
    return labels.get(before, before) != labels.get(after, after) or ends_sentence(last)


def _make_segment(
    segment_id: str, speaker: str, words: list[Word], window: int, offset: float
) -> Segment:
    shifted = [
        Word(
            word=w.word.strip(),
            start=_ms(w.start + offset),
            end=_ms(w.end + offset),
            probability=w.probability,
        )
        for w in words
    ]
    return Segment(
        id=segment_id,
        speaker=speaker,
        text=join_words(words),
        start=shifted[0].start,
        end=shifted[-1].end,
        window=window,
        words=shifted,
    )


def _ms(seconds: float) -> float:
    """Round to milliseconds so offsets do not leak float noise (61.2 + 0.1) into the wire."""
    return round(seconds, 3)
