"""The end-of-job second look at one-word turns: which lines qualify, and when they move."""

from __future__ import annotations

import numpy as np

from core.short_turns import ShortTurn, reassignments, short_turn_lines
from core.speakers import SpeakerRegistry
from core.types import Segment, SpeakerTurn


def _unit(*values: float) -> np.ndarray:
    vector = np.asarray(values, dtype=float)
    return vector / np.linalg.norm(vector)


def test_only_lines_holding_nothing_but_the_short_voice_qualify() -> None:
    # Window at 60 s: A talks, b says "No." (joined A's meeting label), A goes on.
    turns = [
        SpeakerTurn(0.0, 5.0, "A"),
        SpeakerTurn(6.0, 6.4, "b"),
        SpeakerTurn(7.0, 10.0, "A"),
        SpeakerTurn(11.0, 11.5, "b"),
    ]
    mapping = {"A": "SPEAKER_00", "b": "SPEAKER_00"}
    segments = [
        Segment("w2-0", "SPEAKER_00", "Shall we start?", 60.0, 65.0, 2),
        Segment("w2-1", "SPEAKER_00", "No.", 66.5, 66.7, 2),  # drifted 0.1 s past its turn
        Segment("w2-2", "SPEAKER_00", "Dana, can you send it?", 67.0, 70.0, 2),
        # b's second turn grouped with A's words: cannot move without a split.
        Segment("w2-3", "SPEAKER_00", "Sure. Go on then.", 69.5, 71.5, 2),
    ]
    vector = _unit(0.0, 1.0)
    lines = short_turn_lines(segments, turns, mapping, {"b": vector}, offset=60.0)
    assert [(line.segment_id, line.label) for line in lines] == [("w2-1", "SPEAKER_00")]


def test_a_line_moves_only_when_clearly_closer_to_another_speaker() -> None:
    centroids = {"SPEAKER_00": _unit(1.0, 0.0, 0.0), "SPEAKER_01": _unit(0.0, 1.0, 0.0)}
    lines = [
        ShortTurn("w0-1", "SPEAKER_00", _unit(0.55, 0.83, 0.0)),  # clearly SPEAKER_01's
        ShortTurn("w0-2", "SPEAKER_00", _unit(0.7, 0.72, 0.0)),  # too close to call: stays
        ShortTurn("w0-3", "SPEAKER_01", _unit(0.0, 1.0, 0.1)),  # already right
        # Given to a provisional speaker since merged into SPEAKER_01: judged as SPEAKER_01's.
        ShortTurn("w0-4", "SPEAKER_02", _unit(0.9, 0.3, 0.0)),
    ]
    merges = {"SPEAKER_02": "SPEAKER_01"}
    moves = reassignments(lines, centroids, lambda label: merges.get(label, label))
    assert moves == {"w0-1": "SPEAKER_01", "w0-4": "SPEAKER_00"}
    assert reassignments(lines, {"SPEAKER_00": centroids["SPEAKER_00"]}, str) == {}


def test_registry_reports_the_short_voices_that_joined_someone() -> None:
    registry = SpeakerRegistry()
    registry.link({"a": [1.0, 0.0, 0.0]}, {"a": 6.0})
    assert registry.last_short_joins == {}
    # A short voice below the linking threshold joins the closest speaker and is reported.
    registry.link({"a": [1.0, 0.0, 0.0], "b": [0.7, 0.7, 0.1]}, {"a": 6.0, "b": 0.4})
    assert list(registry.last_short_joins) == ["b"]
    assert np.isclose(np.linalg.norm(registry.last_short_joins["b"]), 1.0)
    registry.link({"a": [1.0, 0.0, 0.0]}, {"a": 6.0})
    assert registry.last_short_joins == {}  # per window
