"""Speaker attribution scores on hand-made transcripts with known answers."""

from __future__ import annotations

from benchmarks.speaker_scoring import (
    identification_counts,
    label_people,
    precision_recall,
    wrong_speaker_share,
)

TURNS = [
    {"speaker": "alice", "start": 0.0, "end": 4.0},
    {"speaker": "bob", "start": 4.5, "end": 5.0},
    {"speaker": "alice", "start": 5.5, "end": 9.0},
    {"speaker": "marco", "start": 9.5, "end": 12.0},
]


def seg(label: str, start: float, end: float) -> dict[str, object]:
    return {"speaker": label, "start": start, "end": end, "text": "x"}


def test_phantom_label_maps_to_nobody_and_its_line_counts_as_wrong() -> None:
    segments = [seg("S0", 0, 4), seg("S3", 4.5, 5), seg("S0", 5.5, 9), seg("S2", 9.5, 12)]
    assert label_people(TURNS, segments) == {"S0": "alice", "S2": "marco", "S3": "bob"}
    assert wrong_speaker_share(TURNS, segments) == 0.0
    merged = [seg("S0", 0, 4), seg("S0", 4.5, 5), seg("S0", 5.5, 9), seg("S2", 9.5, 12)]
    assert wrong_speaker_share(TURNS, merged) == 0.25  # bob's "Perfect." given to alice


def test_identification_counts_right_wrong_and_unknown_names() -> None:
    segments = [seg("S0", 0, 4), seg("S1", 4.5, 5), seg("S0", 5.5, 9), seg("S2", 9.5, 12)]
    names = {"S0": "Alice", "S1": "Carol", "S2": "Bob"}
    counts = identification_counts(TURNS, segments, names, enrolled={"alice", "bob", "carol"})
    assert counts.as_dict() == {
        "names_given": 3,
        "names_correct": 1,
        "enrolled_present": 2,
        "enrolled_named": 1,
        "false_names_unknown": 1,  # marco was never enrolled but got "Bob"
    }
    assert precision_recall([counts]) == {
        "precision": 0.3333,
        "recall": 0.5,
        "false_names_unknown": 1,
    }
    assert precision_recall([]) == {"precision": 1.0, "recall": 1.0, "false_names_unknown": 0}
