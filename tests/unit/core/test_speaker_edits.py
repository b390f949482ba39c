"""Names, merges and reassigned lines applied on read, without touching the stored segments."""

from __future__ import annotations

from core.exports import render_transcript
from core.speaker_edits import (
    SpeakerEdits,
    SpeakerName,
    apply_to_segments,
    apply_to_summary,
    apply_to_wire_segments,
)
from core.types import Segment

SEGMENTS = [
    Segment("w0-0", "SPEAKER_00", "Good morning.", 0.0, 1.5, 0),
    Segment("w0-1", "SPEAKER_01", "Morning.", 2.0, 2.8, 0),
    Segment("w0-2", "SPEAKER_02", "Perfect.", 3.0, 3.5, 0),
]


def edits() -> SpeakerEdits:
    return SpeakerEdits(
        names={"SPEAKER_00": SpeakerName("Dana Smith"), "SPEAKER_01": SpeakerName("Lee")},
        merges={"SPEAKER_02": "SPEAKER_01"},
        segment_speakers={"w0-0": "SPEAKER_02"},
    )


def test_reassignment_then_merge_then_name() -> None:
    e = edits()
    # w0-0 was reassigned to SPEAKER_02, which was merged into SPEAKER_01 (Lee).
    assert [s.speaker for s in apply_to_segments(SEGMENTS, e)] == ["Lee", "Lee", "Lee"]
    assert SEGMENTS[0].speaker == "SPEAKER_00"  # the input is untouched
    e.segment_speakers.clear()
    assert [s.speaker for s in apply_to_segments(SEGMENTS, e)] == ["Dana Smith", "Lee", "Lee"]


def test_unnamed_label_reads_as_itself_and_merge_chains_resolve() -> None:
    e = SpeakerEdits(merges={"SPEAKER_03": "SPEAKER_02", "SPEAKER_02": "SPEAKER_00"})
    assert e.display_name("SPEAKER_03") == "SPEAKER_00"
    assert e.display_name("SPEAKER_09") == "SPEAKER_09"


def test_cyclic_merges_do_not_hang() -> None:
    e = SpeakerEdits(merges={"A_00": "B_00", "B_00": "A_00"})
    assert e.resolve_label("A_00") in {"A_00", "B_00"}


def test_exports_carry_names_and_labels() -> None:
    e = SpeakerEdits(names={"SPEAKER_00": SpeakerName("Dana Smith")})
    wire = apply_to_wire_segments(SEGMENTS[:2], e)
    assert [(w["speaker"], w["speaker_label"]) for w in wire] == [
        ("Dana Smith", "SPEAKER_00"),
        ("SPEAKER_01", "SPEAKER_01"),
    ]
    txt, _ = render_transcript(wire, "txt")
    assert txt == "[00:00:00] Dana Smith: Good morning.\n[00:00:02] SPEAKER_01: Morning.\n"
    rttm, _ = render_transcript(wire, "rttm", "m1")
    assert rttm.splitlines()[0] == "SPEAKER m1 1 0.000 1.500 <NA> <NA> Dana_Smith <NA> <NA>"
    vtt, _ = render_transcript(wire, "vtt")
    assert "<v Dana Smith>Good morning." in vtt
    srt, _ = render_transcript(wire, "srt")
    assert "Dana Smith: Good morning." in srt


def test_summary_labels_become_names() -> None:
    payload = {
        "summary": "SPEAKER_00 opened; SPEAKER_02 agreed.",
        "action_items": ["SPEAKER_00: send the build (Friday)"],
        "details": {
            "action_items": [{"text": "send the build", "owner": "SPEAKER_00", "due": "Friday"}],
            "decisions": [],
            "topics": [],
        },
    }
    named = apply_to_summary(payload, edits())
    assert named["summary"] == "Dana Smith opened; Lee agreed."
    assert named["action_items"] == ["Dana Smith: send the build (Friday)"]
    assert named["details"]["action_items"][0]["owner"] == "Dana Smith"
    assert payload["summary"].startswith("SPEAKER_00")  # stored payload untouched
    assert apply_to_summary(payload, SpeakerEdits()) == payload


def test_wire_state_is_complete_and_sorted() -> None:
    state = edits().to_wire()
    assert state == {
        "speakers": {
            "SPEAKER_00": {
                "name": "Dana Smith",
                "source": "user",
                "confidence": None,
                "profile_id": None,
            },
            "SPEAKER_01": {"name": "Lee", "source": "user", "confidence": None, "profile_id": None},
        },
        "merges": {"SPEAKER_02": "SPEAKER_01"},
        "segment_speakers": {"w0-0": "SPEAKER_02"},
    }
