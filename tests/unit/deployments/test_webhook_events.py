"""The pipeline queues webhook events where it records outcomes: a finished job yields
``summary`` and ``completed`` deliveries, a failed one ``failed`` (real SQLite, in-process hub)."""

from __future__ import annotations

from pathlib import Path

from core.types import Segment, SummaryResult
from deployments.job_output import JobOutput
from deployments.job_state import JobState
from persistence import Database, create_job, create_meeting, create_user, upgrade_database
from rooms.hub import EventLog
from webhooks.outbox import create_webhook, list_deliveries


async def summarize(_segments: list[Segment], _language: str | None = None) -> SummaryResult:
    return SummaryResult(summary="We met.", engine="test")


def recorder_for(tmp_path: Path) -> tuple[JobOutput, Database, str]:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade_database(url)
    db = Database(url)
    with db.session() as s:
        user = create_user(s, email="o@example.com", name="O", password_hash="h")
        meeting = create_meeting(s, owner_id=user.id, title="Standup")
        job = create_job(s, meeting.id)
        hook = create_webhook(
            s, user.id, "https://93.184.216.34/h", ["completed", "failed", "summary"], None
        )
    state = JobState(job_id=job.id, meeting_id=meeting.id)
    return JobOutput(state, EventLog(url), db, summarize), db, hook.id


async def test_finished_job_queues_summary_then_completed(tmp_path: Path) -> None:
    recorder, db, hook_id = recorder_for(tmp_path)
    await recorder.finish(12.5)
    with db.session() as s:
        rows = sorted(list_deliveries(s, hook_id), key=lambda d: d.id)
    assert [r.event_type for r in rows] == ["summary", "completed"]
    summary, completed = (r.payload for r in rows)
    assert summary["data"]["summary"]["summary"] == "No speech was transcribed."  # no segments
    assert completed["data"]["job_id"] == recorder.state.job_id
    assert completed["data"]["meeting"] == {
        "id": recorder.state.meeting_id,
        "title": "Standup",
        "status": "completed",
        "duration": 12.5,
    }
    db.dispose()


async def test_failed_job_queues_failed_with_its_code(tmp_path: Path) -> None:
    recorder, db, hook_id = recorder_for(tmp_path)
    await recorder.fail("No speech was found in the audio", "no_speech")
    with db.session() as s:
        [row] = list_deliveries(s, hook_id)
    assert row.event_type == "failed"
    assert row.payload["data"]["code"] == "no_speech"
    assert row.payload["data"]["error"] == "No speech was found in the audio"
    assert row.payload["data"]["meeting"]["status"] == "failed"
    db.dispose()
