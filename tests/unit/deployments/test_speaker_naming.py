"""Naming enrolled voices during a job: stored centroids, profile names, one event per change."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.short_turns import ShortTurn
from core.speakers import SpeakerRegistry, speech_by_label
from core.types import Segment
from deployments.speaker_naming import SpeakerNaming
from persistence import Database, create_meeting, create_user, save_segments, upgrade_database
from persistence.speakers import (
    create_voice_profile,
    load_speaker_edits,
    reassign_segment,
    rename_speaker,
    speaker_centroid,
)
from rooms.hub import EventLog


async def test_enrolled_voice_is_named_once_and_unknown_stays_anonymous(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    db = Database(url)
    with db.session() as s:
        owner = create_user(s, email="o@example.com", name="O", password_hash="h")
        other = create_user(s, email="x@example.com", name="X", password_hash="h")
        meeting_id = create_meeting(s, owner_id=owner.id, title="t").id
        create_voice_profile(s, owner.id, "Dana", "embedded:ge2e", [1.0, 0.0, 0.0], "meeting")
        create_voice_profile(s, owner.id, "Old model", "pyannote:x", [0.0, 1.0, 0.0], "meeting")
        create_voice_profile(s, other.id, "Not yours", "embedded:ge2e", [0.0, 1.0, 0.0], "meeting")
        save_segments(s, meeting_id, [Segment("w0-0", "SPEAKER_01", "Hi", 0, 1, 0)])
    hub = EventLog(url)
    naming = SpeakerNaming(meeting_id, db, hub, threshold=0.88, margin=0.04)
    registry = SpeakerRegistry()
    registry.link({"a": [0.98, 0.1, 0.05], "b": [0.0, 1.0, 0.0]}, {"a": 6.0, "b": 5.0})

    await naming.after_window(registry, "embedded:ge2e")
    await naming.after_window(registry, "embedded:ge2e")  # nothing new: no second event

    events = [e for e in await hub.replay(meeting_id, 0) if e["type"] == "speakers"]
    assert len(events) == 1
    assert list(events[0]["speakers"]) == ["SPEAKER_00"]  # profiles of other backends/users unused
    named = events[0]["speakers"]["SPEAKER_00"]
    assert named["name"] == "Dana" and named["source"] == "profile"
    assert 0.9 < named["confidence"] <= 1.0
    with db.session() as s:
        centroid = speaker_centroid(s, meeting_id, "SPEAKER_01")
        assert centroid is not None and centroid[2] == "embedded:ge2e"
        # A user's rename wins over the profile and is never overwritten by later windows.
        rename_speaker(s, meeting_id, "SPEAKER_00", "Dana S.")
    await naming.after_window(registry, "embedded:ge2e")
    with db.session() as s:
        assert load_speaker_edits(s, meeting_id).display_name("SPEAKER_00") == "Dana S."


def _meeting_with(tmp_path: Path, segments: list[Segment]) -> tuple[Database, EventLog, str]:
    """A database holding one meeting with ``segments``, and a hub on it."""
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    upgrade_database(url)
    db = Database(url)
    with db.session() as s:
        owner = create_user(s, email="o@example.com", name="O", password_hash="h")
        meeting_id = create_meeting(s, owner_id=owner.id, title="t").id
        save_segments(s, meeting_id, segments)
    return db, EventLog(url), meeting_id


async def test_reattribution_is_stored_as_a_merge_and_announced(tmp_path: Path) -> None:
    db, hub, meeting_id = _meeting_with(
        tmp_path,
        [
            Segment("w0-0", "SPEAKER_00", "Hi.", 0, 0.4, 0),
            Segment("w1-0", "SPEAKER_01", "Good morning all.", 1, 7, 1),
        ],
    )
    naming = SpeakerNaming(meeting_id, db, hub, threshold=0.88, margin=0.04)
    registry = SpeakerRegistry()
    registry.link({"hi": [0.8, 0.5, 0.3]}, {"hi": 0.4})
    registry.link({"a": [1.0, 0.0, 0.0]}, {"a": 6.0})
    await naming.reattribute(registry)
    events = [e for e in await hub.replay(meeting_id, 0) if e["type"] == "speakers"]
    assert [e["change"] for e in events] == [
        {"action": "reattribute", "merges": {"SPEAKER_00": "SPEAKER_01"}}
    ]
    with db.session() as s:
        assert load_speaker_edits(s, meeting_id).display_name("SPEAKER_00") == "SPEAKER_01"


async def test_short_turn_lines_closer_to_another_speaker_move_unless_moved_by_hand(
    tmp_path: Path,
) -> None:
    db, hub, meeting_id = _meeting_with(
        tmp_path,
        [
            Segment("w0-0", "SPEAKER_00", "Let's begin.", 0, 4, 0),
            Segment("w0-1", "SPEAKER_00", "No.", 5, 5.4, 0),
            Segment("w0-2", "SPEAKER_00", "Thanks.", 6, 6.5, 0),
            Segment("w1-0", "SPEAKER_01", "I will own the renewal.", 31, 35, 1),
            Segment("w1-1", "SPEAKER_02", "Great.", 36, 37, 1),
        ],
    )
    naming = SpeakerNaming(meeting_id, db, hub, threshold=0.88, margin=0.04)
    registry = SpeakerRegistry()
    registry.link({"a": [1.0, 0.0, 0.0]}, {"a": 4.0})
    registry.link({"b": [0.0, 1.0, 0.0]}, {"b": 4.0})
    bob_like = np.array([0.55, 0.83, 0.0])
    lines = [
        ShortTurn("w0-1", "SPEAKER_00", bob_like / np.linalg.norm(bob_like)),
        ShortTurn("w0-2", "SPEAKER_00", bob_like / np.linalg.norm(bob_like)),
    ]
    with db.session() as s:  # a person already gave "Thanks." to someone: that stands
        reassign_segment(s, meeting_id, "w0-2", "SPEAKER_02")

    edits = await naming.reattribute(registry, lines)

    assert edits.segment_speakers == {"w0-1": "SPEAKER_01", "w0-2": "SPEAKER_02"}
    events = [e for e in await hub.replay(meeting_id, 0) if e["type"] == "speakers"]
    assert events[-1]["change"] == {
        "action": "reattribute",
        "merges": {},
        "segment_speakers": {"w0-1": "SPEAKER_01"},
    }
    assert events[-1]["segment_speakers"] == {"w0-1": "SPEAKER_01", "w0-2": "SPEAKER_02"}
    with db.session() as s:
        edits = load_speaker_edits(s, meeting_id)
        assert edits.segment_label("w0-1", "SPEAKER_00") == "SPEAKER_01"
        assert edits.segment_label("w0-2", "SPEAKER_00") == "SPEAKER_02"


async def test_a_minor_speaker_is_folded_unless_someone_named_it(tmp_path: Path) -> None:
    segments = [
        Segment("w0-0", "SPEAKER_00", "Good morning, everyone, let's start.", 0, 12, 0),
        Segment("w1-0", "SPEAKER_01", "That explains the red builds.", 13, 16, 1),
    ]
    for rename in (False, True):
        db, hub, meeting_id = _meeting_with(tmp_path / str(rename), segments)
        registry = SpeakerRegistry(threshold=0.999, short_turn_s=0.0)
        registry.link({"a": [1.0, 0.0, 0.0]}, {"a": 12.0})
        registry.link({"b": [0.95, 0.31, 0.0]}, {"b": 3.0})  # a noisy fragment of the same voice
        if rename:  # during the meeting someone said who that is: a person, not a fragment
            with db.session() as s:
                rename_speaker(s, meeting_id, "SPEAKER_01", "Guest")
        naming = SpeakerNaming(meeting_id, db, hub, threshold=0.88, margin=0.04)
        edits = await naming.reattribute(registry, speech=speech_by_label(segments))
        # What the summary reads: the fragment's line under the speaker it joined.
        assert edits.segment_label("w1-0", "SPEAKER_01") == (
            "SPEAKER_01" if rename else "SPEAKER_00"
        )
        events = [e for e in await hub.replay(meeting_id, 0) if e["type"] == "speakers"]
        changes = [e["change"] for e in events]
        if rename:
            assert changes == [] and registry.speaker_count == 2
        else:
            assert changes == [{"action": "reattribute", "merges": {"SPEAKER_01": "SPEAKER_00"}}]
