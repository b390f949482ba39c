"""A second look at one-word turns once the meeting's speakers are all known.

A short voice ("No.", "Thanks.") joins the closest speaker known *when its window is linked*
(``core.speakers``). When its own speaker has not had a long turn yet, the closest one is
someone else, and the line goes to the wrong person. At the end of the job every speaker has a
centroid, and the short turn's embedding is compared again: a line that is clearly closer to
another speaker now is reassigned to them, the same way a user reassigns a line
(``core.speaker_edits``: stored beside the segment, never rewriting it).

Only lines that hold nothing but the short voice are candidates. So that its words are not
grouped into the line of the speaker it joined ("No. Dana, can you send it?"), such a voice keeps
a speaker of its own while the window's words are aligned (``alignment_turns``): where a
sentence ends, its words form a line of their own under the label it joined, which the second
look can then move whole (``core.alignment`` keeps a sentence in one line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.speakers import ShortJoin, relabel
from core.types import Segment, SpeakerTurn

# How much closer (cosine similarity) another speaker's final centroid must be than the one the
# line went to. Measured on Festival voices: short turns' similarity to their own speaker beat
# the wrong one by 0.07-0.15 once both were known.
REASSIGN_MARGIN = 0.05
# Whisper's word times drift on one-word answers: a line counts as the short turn's when it
# lies within this distance of one of the turn's spans.
EDGE_S = 0.5
# A line overlapping a longer turn of the same speaker by more than this also holds their words.
SHARED_S = 0.2
MAX_KEPT = 5000  # per job; a turn's embedding is ~1 KB
# A short voice at least this like the speaker it joined is taken as theirs: its words stay in
# their line. Festival voices: the right speaker's short voices joined at 0.77-0.84 (one at 0.62
# inside a sentence, which stays whole anyway); a new speaker's first "No." joined someone else
# at 0.58-0.63.
SURE_JOIN = 0.7
_OWN_KEY = "short:"  # alignment keys of short voices; never a meeting or window label


@dataclass(frozen=True, slots=True)
class ShortTurn:
    segment_id: str
    label: str  # the meeting label the line was given when its window was linked
    vector: np.ndarray  # unit embedding of the short voice


def alignment_turns(
    turns: Sequence[SpeakerTurn], mapping: Mapping[str, str], short_joins: Mapping[str, ShortJoin]
) -> tuple[list[SpeakerTurn], dict[str, str]]:
    """The window's turns keyed for aligning its words, and the meeting label of each key that
    is not one itself (``core.alignment.align_words``'s ``labels``).

    Every voice is keyed by its meeting label (``mapping``, from ``registry.link``), except a
    short voice that joined a speaker it is not clearly like (``short_joins``, below
    ``SURE_JOIN``): it keeps a key of its own, so its words break the line where a sentence
    ends, even when the speaker it joined talks right before or after it.
    """
    own = {
        local: f"{_OWN_KEY}{local}"
        for local, join in short_joins.items()
        if local in mapping and join.similarity < SURE_JOIN
    }
    labels = {key: mapping[local] for local, key in own.items()}
    return relabel(turns, {**mapping, **own}), labels


def short_turn_lines(
    segments: Sequence[Segment],
    turns: Sequence[SpeakerTurn],
    mapping: Mapping[str, str],
    short_joins: Mapping[str, ShortJoin],
    offset: float,
) -> list[ShortTurn]:
    """The window's lines that hold only a short voice which joined a known speaker.

    ``turns`` are the window's diarization turns (window-local times and labels), ``mapping``
    their meeting labels, ``short_joins`` the short local voices that joined someone, ``offset`` the
    window's start in the meeting.
    """
    found: list[ShortTurn] = []
    for local, join in short_joins.items():
        label = mapping.get(local)
        own = [(t.start + offset, t.end + offset) for t in turns if t.speaker == local]
        others = [
            (t.start + offset, t.end + offset)
            for t in turns
            if t.speaker != local and mapping.get(t.speaker) == label
        ]
        for segment in segments:
            if (
                segment.speaker == label
                and any(_gap(segment, span) <= EDGE_S for span in own)
                and all(_overlap(segment, span) <= SHARED_S for span in others)
            ):
                found.append(ShortTurn(segment.id, label, join.vector))
    return found


def reassignments(
    lines: Sequence[ShortTurn],
    centroids: Mapping[str, np.ndarray],
    resolve: Callable[[str], str],
    margin: float = REASSIGN_MARGIN,
) -> dict[str, str]:
    """``{segment id: label}`` for lines now clearly closer to another speaker's centroid.

    ``centroids`` are the final unit centroids by label; ``resolve`` follows merges made since
    (a provisional speaker folded into a confirmed one).
    """
    moves: dict[str, str] = {}
    if len(centroids) < 2:
        return moves
    labels = list(centroids)
    matrix = np.stack([centroids[label] for label in labels])
    for line in lines:
        given = resolve(line.label)
        if given not in centroids:
            continue
        scores = matrix @ line.vector
        best = int(np.argmax(scores))
        if labels[best] != given and scores[best] - scores[labels.index(given)] >= margin:
            moves[line.segment_id] = labels[best]
    return moves


def _gap(segment: Segment, span: tuple[float, float]) -> float:
    """Seconds between the line and the span (0 when they overlap)."""
    return max(0.0, span[0] - segment.end, segment.start - span[1])


def _overlap(segment: Segment, span: tuple[float, float]) -> float:
    return max(0.0, min(segment.end, span[1]) - max(segment.start, span[0]))
