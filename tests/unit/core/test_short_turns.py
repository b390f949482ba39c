"""The end-of-job second look at one-word turns: which lines qualify, and when they move."""

from __future__ import annotations

import numpy as np

from core.alignment import align_words
from core.short_turns import ShortTurn, alignment_turns, reassignments, short_turn_lines
from core.speakers import ShortJoin, SpeakerRegistry, relabel
from core.types import Segment, SpeakerTurn, Word


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
    joins = {"b": ShortJoin(_unit(0.0, 1.0), 0.6)}
    lines = short_turn_lines(segments, turns, mapping, joins, offset=60.0)
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
    join = registry.last_short_joins["b"]
    assert np.isclose(np.linalg.norm(join.vector), 1.0)
    assert np.isclose(join.similarity, float(join.vector @ np.array([1.0, 0.0, 0.0])))
    registry.link({"a": [1.0, 0.0, 0.0]}, {"a": 6.0})
    assert registry.last_short_joins == {}  # per window


def _linked(short_voice: list[float]) -> tuple[SpeakerRegistry, dict[str, str]]:
    """A registry that knows A, then links a window where A talks at length and b briefly."""
    registry = SpeakerRegistry()
    registry.link({"A": [1.0, 0.0, 0.0], "C": [0.0, 0.0, 1.0]}, {"A": 6.0, "C": 6.0})
    mapping = registry.link({"A": [1.0, 0.0, 0.0], "b": short_voice}, {"A": 6.0, "b": 0.4})
    return registry, mapping


# A: "Shall we start?", b: "No." 0.5 s before A's next sentence.
_TURNS = [SpeakerTurn(0.0, 4.6, "A"), SpeakerTurn(6.0, 6.4, "b"), SpeakerTurn(6.7, 9.6, "A")]
_WORDS = [
    Word("Shall", 0.5, 0.9), Word("we", 0.9, 1.1), Word("start?", 1.1, 4.5),
    Word("No.", 6.1, 6.3),
    Word("Dana,", 6.8, 7.2), Word("can", 7.2, 7.5), Word("you", 7.5, 7.7),
    Word("send", 7.7, 8.0), Word("it?", 8.0, 9.5),
]  # fmt: skip


def test_a_short_voice_unlike_the_speaker_it_joined_gets_a_line_of_its_own() -> None:
    registry, mapping = _linked([0.6, 0.8, 0.0])  # 0.6 like A: maybe someone not heard yet
    assert mapping["b"] == mapping["A"] and "b" in registry.last_short_joins

    keyed, labels = alignment_turns(_TURNS, mapping, registry.last_short_joins)
    segments = align_words(_WORDS, keyed, 2, 60.0, labels=labels)

    assert [(s.speaker, s.text) for s in segments] == [
        ("SPEAKER_00", "Shall we start?"),
        ("SPEAKER_00", "No."),
        ("SPEAKER_00", "Dana, can you send it?"),
    ]
    joins = registry.last_short_joins
    lines = short_turn_lines(segments, _TURNS, mapping, joins, offset=60.0)
    assert [line.segment_id for line in lines] == ["w2-1"]
    # Keyed by meeting label alone, "No." runs into A's sentence and no line qualifies.
    merged = align_words(_WORDS, relabel(_TURNS, mapping), 2, 60.0)
    assert [s.text for s in merged] == ["Shall we start?", "No. Dana, can you send it?"]
    assert short_turn_lines(merged, _TURNS, mapping, joins, offset=60.0) == []


def test_a_short_voice_clearly_like_the_speaker_it_joined_stays_in_their_line() -> None:
    registry, mapping = _linked([0.78, 0.626, 0.0])  # 0.78 like A: A's own "No."
    assert "b" in registry.last_short_joins

    keyed, labels = alignment_turns(_TURNS, mapping, registry.last_short_joins)

    segments = align_words(_WORDS, keyed, 2, 60.0, labels=labels)
    assert [s.text for s in segments] == ["Shall we start?", "No. Dana, can you send it?"]


def test_a_short_voice_inside_a_sentence_stays_in_its_line() -> None:
    # The diarizer heard "Carol," as a voice of its own; the sentence goes on in A's turn.
    registry, mapping = _linked([0.6, 0.8, 0.0])
    turns = [SpeakerTurn(0.0, 0.6, "b"), SpeakerTurn(0.8, 3.6, "A"), SpeakerTurn(4.0, 6.0, "C")]
    words = [
        Word("Carol,", 0.1, 0.5), Word("can", 0.9, 1.1), Word("you", 1.1, 1.3),
        Word("ask?", 1.3, 2.5), Word("Thanks.", 2.7, 3.5), Word("Yes.", 4.1, 4.5),
    ]  # fmt: skip
    mapping = {**mapping, "C": "SPEAKER_01"}
    keyed, labels = alignment_turns(turns, mapping, registry.last_short_joins)

    segments = align_words(words, keyed, 0, 0.0, labels=labels)

    assert [(s.speaker, s.text) for s in segments] == [
        ("SPEAKER_00", "Carol, can you ask? Thanks."),
        ("SPEAKER_01", "Yes."),
    ]
