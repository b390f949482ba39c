"""A job taken over by another replica (real SQLite, in-process hub): the new owner publishes
what the old one stored but had not published, links speakers to the labels already published,
and the old owner can store nothing more."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.types import DiarizationResult, SpeakerTurn, TranscriptionResult, Word
from core.windowing import Window
from deployments.job_output import JobOutput
from deployments.job_resume import restore_state
from deployments.job_state import JobState, WindowResult
from persistence import Database, create_job, create_meeting, create_user, upgrade_database
from persistence.leases import LeaseLostError, claim_job
from persistence.models import Job
from rooms.hub import Event, EventLog

T0 = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
ALICE, BOB = [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]


async def no_summary(*_args: object) -> object:
    raise AssertionError("not called")


class FlakyHub(EventLog):
    """Dies (raises) on the n-th transcript publish, like a replica killed mid-window."""

    def __init__(self, url: str, die_at: int) -> None:
        super().__init__(url)
        self.die_at = die_at
        self.transcripts = 0

    async def publish_many(self, meeting_id: str, events: list[Event]) -> list[Event]:
        """The transcripts before the n-th are stored, then the replica dies: a window's
        segments go out in one call, but a resume must cope with any prefix of them."""
        for n, event in enumerate(events):
            if event.get("type") == "transcript":
                self.transcripts += 1
                if self.transcripts == self.die_at:
                    await super().publish_many(meeting_id, events[:n])
                    raise RuntimeError("replica killed")
        return await super().publish_many(meeting_id, events)


def window(index: int, voices: list[tuple[str, list[float]]]) -> WindowResult:
    """Two words per voice, one turn per voice, in a 10 s window."""
    start = index * 10.0
    words, turns, embeddings = [], [], {}
    for n, (name, vector) in enumerate(voices):
        t = 1.0 + 4 * n
        words += [Word(f"{name}{index}a", t, t + 0.5), Word(f"{name}{index}b", t + 0.6, t + 1.0)]
        turns.append(SpeakerTurn(t, t + 3.0, f"local{n}"))
        embeddings[f"local{n}"] = vector
    return WindowResult(
        Window(index, start, start + 10.0),
        TranscriptionResult(words, " ".join(w.word for w in words)),
        DiarizationResult(turns, embeddings, "test"),
    )


@pytest.fixture
def db(tmp_path: Path) -> tuple[Database, str, str]:
    url = f"sqlite:///{tmp_path / 'resume.db'}"
    upgrade_database(url)
    database = Database(url)
    with database.session() as s:
        user = create_user(s, email="o@example.com", name="O", password_hash="h")
        meeting = create_meeting(s, owner_id=user.id, title="m")
        job = create_job(s, meeting.id)
        job.status = "processing"
    return database, meeting.id, job.id


def owned_state(db: Database, job_id: str, meeting_id: str, owner: str, now: datetime) -> JobState:
    with db.session() as s:
        claimed = claim_job(s, job_id, owner, now, 10.0)
    assert claimed is not None
    state = JobState(job_id=job_id, meeting_id=meeting_id, owner_id=owner)
    if claimed.status == "processing" and claimed.windows_done:
        restore_state(state, claimed.resume_state, claimed.windows_done)
    return state


async def test_a_new_owner_continues_without_loss_duplicate_or_relabel(
    db: tuple[Database, str, str],
) -> None:
    database, meeting_id, job_id = db
    url = database.url
    hub_a = FlakyHub(url, die_at=4)  # window 1's second segment never reaches the room
    a = JobOutput(owned_state(database, job_id, meeting_id, "A", T0), hub_a, database, no_summary)
    await a.publish_window(window(0, [("alice", ALICE), ("bob", BOB)]))
    with pytest.raises(RuntimeError, match="replica killed"):
        await a.publish_window(window(1, [("bob", BOB), ("alice", ALICE)]))

    later = T0 + timedelta(seconds=11)  # A's lease has expired
    hub_b = EventLog(url)
    b_state = owned_state(database, job_id, meeting_id, "B", later)
    assert b_state.published == 2 and b_state.resumed
    b = JobOutput(b_state, hub_b, database, no_summary)
    await b.resume(None)
    await b.publish_window(window(2, [("bob", BOB)]))

    with pytest.raises(LeaseLostError):  # A wakes up: it may not store window 2 again
        await a.publish_window(window(2, [("alice", ALICE)]))

    events = await hub_b.replay(meeting_id, 0)
    told = [e["details"].get("language_source") for e in events if e["type"] == "status"]
    assert told == ["default"]  # the new owner does not repeat the old one's language status
    lines = [(e["segment"]["text"], e["segment"]["speaker"]) for e in events if "segment" in e]
    assert lines == [
        ("alice0a alice0b", "SPEAKER_00"),
        ("bob0a bob0b", "SPEAKER_01"),
        ("bob1a bob1b", "SPEAKER_01"),
        ("alice1a alice1b", "SPEAKER_00"),  # stored by A, published by B
        ("bob2a bob2b", "SPEAKER_01"),  # linked by B's restored registry (alone: not _00)
    ]
    assert len({e["event_id"] for e in events}) == len(events)
    assert [s.text for s in b_state.segments][-1] == "bob2a bob2b"
    assert len(b_state.segments) == 5  # the summary will see the whole meeting
    database.dispose()


async def test_an_old_owner_cannot_fail_a_job_taken_over(db: tuple[Database, str, str]) -> None:
    database, meeting_id, job_id = db
    hub = EventLog(database.url)
    a = JobOutput(owned_state(database, job_id, meeting_id, "A", T0), hub, database, no_summary)
    owned_state(database, job_id, meeting_id, "B", T0 + timedelta(seconds=11))
    await a.fail("Transcription failed", "transcriber_failed")
    with database.session() as s:
        assert s.get(Job, job_id).status == "processing"  # type: ignore[union-attr]
    assert await hub.replay(meeting_id, 0) == []  # nothing told to the room either
    database.dispose()
