"""The repository functions the hub actor and the processor call, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.types import Segment, Word
from persistence import (
    Database,
    EmailTakenError,
    EventSeqConflictError,
    JobAlreadyActiveError,
    MeetingNotFoundError,
    append_event,
    create_job,
    create_meeting,
    create_user,
    events_after,
    get_active_job,
    get_job,
    get_meeting,
    get_summary,
    list_segments,
    max_event_seq,
    save_segments,
    save_summary,
    set_meeting_status,
    update_job,
    upgrade_database,
    visible_meeting,
)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    upgrade_database(database_url)
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def meeting_id(db: Database) -> str:
    with db.session() as s:
        user = create_user(s, email="owner@example.com", name="O", password_hash="h")
        return create_meeting(s, owner_id=user.id, title="M").id


def event(seq: int) -> dict[str, object]:
    return {"type": "transcript", "seq": seq, "segment": {"id": f"w0-{seq}"}}


def test_events_round_trip_in_seq_order(db: Database, meeting_id: str) -> None:
    with db.session() as s:
        assert max_event_seq(s, meeting_id) == 0
        for seq in (2, 1, 3):
            append_event(s, meeting_id, seq, "transcript", event(seq))
    with db.session() as s:
        assert max_event_seq(s, meeting_id) == 3
        assert events_after(s, meeting_id, 0, 100) == [event(1), event(2), event(3)]
        assert events_after(s, meeting_id, 1, 1) == [event(2)]
        assert events_after(s, "other-meeting", 0, 100) == []


def test_duplicate_seq_is_refused_and_keeps_the_first(db: Database, meeting_id: str) -> None:
    with db.session() as s:
        append_event(s, meeting_id, 1, "transcript", event(1))
    with pytest.raises(EventSeqConflictError) as conflict, db.session() as s:
        append_event(s, meeting_id, 1, "status", {"type": "status", "seq": 1})
    assert (conflict.value.meeting_id, conflict.value.seq) == (meeting_id, 1)
    with db.session() as s:
        assert events_after(s, meeting_id, 0, 10) == [event(1)]


def test_segments_saved_in_media_order_and_replaced_on_retry(db: Database, meeting_id: str) -> None:
    first = [
        Segment("w1-0", "SPEAKER_01", "Later", 30.0, 31.0, 1, [Word("Later", 30.0, 31.0, 0.5)]),
        Segment("w0-0", "SPEAKER_00", "Hello", 0.0, 1.5, 0, [Word("Hello", 0.0, 1.5, 0.9)]),
    ]
    with db.session() as s:
        save_segments(s, meeting_id, first)
        save_segments(s, meeting_id, [Segment("w1-0", "SPEAKER_02", "Again", 30.0, 31.0, 1)])
    with db.session() as s:
        stored = list_segments(s, meeting_id)
    assert [(x.id, x.speaker, x.text) for x in stored] == [
        ("w0-0", "SPEAKER_00", "Hello"),
        ("w1-0", "SPEAKER_02", "Again"),
    ]
    assert stored[0].words == [Word("Hello", 0.0, 1.5, 0.9)]
    assert stored[0].to_wire()["timestamp"] == 0.0


def test_summary_is_upserted(db: Database, meeting_id: str) -> None:
    with db.session() as s:
        assert get_summary(s, meeting_id) is None
        save_summary(s, meeting_id, {"summary": "v1"}, "extractive")
    with db.session() as s:
        save_summary(s, meeting_id, {"summary": "v2", "action_items": []}, "vllm")
    with db.session() as s:
        summary = get_summary(s, meeting_id)
        assert summary is not None
        assert (summary.payload, summary.engine) == ({"summary": "v2", "action_items": []}, "vllm")


def test_one_active_job_per_meeting(db: Database, meeting_id: str) -> None:
    with db.session() as s:
        job = create_job(s, meeting_id, "upload")
    with pytest.raises(JobAlreadyActiveError) as busy, db.session() as s:
        create_job(s, meeting_id, "live")
    assert busy.value.job_id == job.id
    with db.session() as s:
        update_job(s, job.id, status="processing", windows_total=4, windows_done=1)
        assert get_active_job(s, meeting_id) is not None
        finished = update_job(s, job.id, status="failed", error="bad audio", error_code="x")
        assert finished is not None
        assert finished.finished_at is not None
        assert get_active_job(s, meeting_id) is None
        second = create_job(s, meeting_id, "upload")
    with db.session() as s:
        stored = get_job(s, job.id)
        assert stored is not None
        assert (stored.status, stored.windows_total, stored.windows_done) == ("failed", 4, 1)
        assert (stored.error, stored.error_code) == ("bad audio", "x")
        assert get_active_job(s, meeting_id).id == second.id  # type: ignore[union-attr]
        assert update_job(s, "no-such-job", status="completed") is None


def test_meeting_status_and_visibility(db: Database, meeting_id: str) -> None:
    with db.session() as s:
        set_meeting_status(s, meeting_id, "completed", duration=12.5, audio_path="/a.wav")
        with pytest.raises(MeetingNotFoundError):
            set_meeting_status(s, "missing", "failed")
    with db.session() as s:
        meeting = get_meeting(s, meeting_id)
        assert meeting is not None
        assert (meeting.status, meeting.duration, meeting.audio_path) == (
            "completed",
            12.5,
            "/a.wav",
        )
        assert meeting.created_at.tzinfo is not None
        assert visible_meeting(s, meeting.owner_id, meeting_id) is not None
        assert visible_meeting(s, "someone-else", meeting_id) is None


def test_duplicate_email_raises_domain_error(db: Database, meeting_id: str) -> None:
    with pytest.raises(EmailTakenError), db.session() as s:
        create_user(s, email=" OWNER@example.com", name="X", password_hash="h")
