"""Speaker attribution as a reader sees it: speakers found, lines given to the wrong person,
and names from voice profiles (right, wrong, or given to someone never enrolled).

Pure functions over the reference turns (``speaker/start/end``) and wire segments
(``speaker/start/end``, ``speaker`` being the meeting label).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Row = Mapping[str, Any]


def _overlap(a: Row, b: Row) -> float:
    return max(
        0.0, min(float(a["end"]), float(b["end"])) - max(float(a["start"]), float(b["start"]))
    )


def majority_person(segment: Row, turns: Sequence[Row]) -> str | None:
    """The reference speaker who talks most during ``segment`` (None if nobody does)."""
    time: dict[str, float] = {}
    for turn in turns:
        time[turn["speaker"]] = time.get(turn["speaker"], 0.0) + _overlap(segment, turn)
    best = max(time, key=lambda p: time[p], default=None)
    return best if best is not None and time[best] > 0 else None


def label_people(turns: Sequence[Row], segments: Sequence[Row]) -> dict[str, str]:
    """Each meeting label's person: one to one, maximising the overlapping speech (a phantom
    label that loses to the real one maps to nobody)."""
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    labels = sorted({str(s["speaker"]) for s in segments})
    people = sorted({str(t["speaker"]) for t in turns})
    if not labels or not people:
        return {}
    overlap = np.zeros((len(labels), len(people)))
    for s in segments:
        for t in turns:
            overlap[labels.index(str(s["speaker"])), people.index(str(t["speaker"]))] += _overlap(
                s, t
            )
    rows, cols = linear_sum_assignment(-overlap)
    return {labels[r]: people[c] for r, c in zip(rows, cols, strict=True) if overlap[r, c] > 0}


def wrong_speaker_share(turns: Sequence[Row], segments: Sequence[Row]) -> float:
    """Share of transcript lines whose label's person is not who mostly speaks in the line."""
    mapping = label_people(turns, segments)
    judged = [(s, majority_person(s, turns)) for s in segments]
    judged = [(s, person) for s, person in judged if person is not None]
    if not judged:
        return 0.0
    wrong = sum(1 for s, person in judged if mapping.get(str(s["speaker"])) != person)
    return wrong / len(judged)


@dataclass(frozen=True)
class IdentificationCounts:
    names_given: int  # labels named by a voice profile
    names_correct: int  # ... whose person is the profile's person
    enrolled_present: int  # enrolled people who speak in the meeting
    enrolled_named: int  # ... whose label got their own name
    false_names_unknown: int  # names given to a voice nobody enrolled

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def identification_counts(
    turns: Sequence[Row],
    segments: Sequence[Row],
    names: Mapping[str, str],
    enrolled: Collection[str],
) -> IdentificationCounts:
    """``names``: meeting label -> profile name (people's names compared case-insensitively)."""
    people = {label: majority_label_person(label, turns, segments) for label in names}
    enrolled_set = {p.casefold() for p in enrolled}
    correct = sum(
        1 for lab, name in names.items() if (people[lab] or "").casefold() == name.casefold()
    )
    unknown = sum(1 for lab in names if (people[lab] or "").casefold() not in enrolled_set)
    present = {str(t["speaker"]).casefold() for t in turns} & enrolled_set
    named_right = {
        name.casefold()
        for lab, name in names.items()
        if (people[lab] or "").casefold() == name.casefold()
    }
    return IdentificationCounts(
        len(names), correct, len(present), len(named_right & present), unknown
    )


def majority_label_person(label: str, turns: Sequence[Row], segments: Sequence[Row]) -> str | None:
    """The person who speaks most in all of ``label``'s lines."""
    time: dict[str, float] = {}
    for s in segments:
        if str(s["speaker"]) != label:
            continue
        for t in turns:
            time[str(t["speaker"])] = time.get(str(t["speaker"]), 0.0) + _overlap(s, t)
    best = max(time, key=lambda p: time[p], default=None)
    return best if best is not None and time[best] > 0 else None


def precision_recall(counts: Sequence[IdentificationCounts]) -> dict[str, float | int]:
    given = sum(c.names_given for c in counts)
    present = sum(c.enrolled_present for c in counts)
    return {
        "precision": round(sum(c.names_correct for c in counts) / given, 4) if given else 1.0,
        "recall": round(sum(c.enrolled_named for c in counts) / present, 4) if present else 1.0,
        "false_names_unknown": sum(c.false_names_unknown for c in counts),
    }
