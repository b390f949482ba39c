"""``LiveSessions``, a Processor replica's live sessions, without Ray: open, feed, refuse,
re-attach, redirect to the owner, stop, and forget a session whose lease went elsewhere (real
SQLite, real lease keeper, the hub's in-process event log, scripted models)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from deployments.job_leases import LeaseKeeper, LeaseOptions
from deployments.job_state import JobState
from deployments.live import LiveSession
from deployments.live_sessions import LiveSessions
from deployments.partials import PartialBudget
from persistence import get_job
from persistence.leases import ClaimedJob
from processor_api.live_replies import LiveRedirect, LiveRefusal, LiveSessionState
from settings.config import Settings
from tests.unit.orchestration.fakes import (
    Meeting,
    RecordingHub,
    ScriptedModels,
    to_pcm16,
    utterances,
)

TIMEOUT_S = 10


async def no_orphans(_claimed: ClaimedJob) -> None:
    raise AssertionError("no job is orphaned in these tests")


def replica(
    meeting: Meeting, hub: RecordingHub, owner: str, settings: Settings
) -> tuple[LiveSessions, LeaseKeeper]:
    leases = LeaseKeeper(meeting.db, owner, LeaseOptions(), lambda _job: None, no_orphans)
    models = ScriptedModels()

    def job_state(job_id: str, meeting_id: str) -> JobState:
        return JobState(job_id=job_id, meeting_id=meeting_id)

    def new_session(state: JobState, session_id: str) -> LiveSession:
        return LiveSession(
            state, models.models(), hub, meeting.db, session_id, partial_budget=PartialBudget(0)
        )

    return LiveSessions(meeting.db, settings, leases, 0.0, 0.01, job_state, new_session), leases


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(environment="test", data_dir=tmp_path, jwt_secret="x" * 32)


@pytest.fixture
def open_meeting(meeting: Meeting) -> Meeting:
    """The orchestration meeting without its queued upload job (a live job needs the slot)."""
    with meeting.db.session() as session:
        job = get_job(session, meeting.job_id)
        assert job is not None
        job.status = "completed"
    return meeting


async def opened(sessions: LiveSessions, meeting_id: str) -> LiveSessionState:
    reply = await sessions.open(meeting_id, None, None)
    assert isinstance(reply, LiveSessionState), reply
    return reply


async def test_a_session_is_fed_then_stopped_into_a_completed_job(
    open_meeting: Meeting, hub: RecordingHub, settings: Settings
) -> None:
    sessions, _ = replica(open_meeting, hub, "A", settings)
    started = await opened(sessions, open_meeting.meeting_id)
    assert started.owner == "A" and started.received_s == 0.0

    pcm = to_pcm16(utterances(1, speech_s=1.0, pause_s=0.5))
    fed = await sessions.feed(started.session_id, pcm)
    assert isinstance(fed, LiveSessionState) and fed.received_s == 1.5

    stopped = await asyncio.wait_for(sessions.stop(started.session_id), TIMEOUT_S)
    assert isinstance(stopped, LiveSessionState) and stopped.job_id == started.job_id
    with open_meeting.db.session() as session:
        job = get_job(session, started.job_id)
        assert job is not None and job.status == "completed"
    unknown = await sessions.feed(started.session_id, pcm)  # gone once stopped
    assert isinstance(unknown, LiveRefusal) and unknown.code == "unknown_session"


async def test_a_second_session_on_a_busy_meeting_is_refused(
    open_meeting: Meeting, hub: RecordingHub, settings: Settings
) -> None:
    sessions, _ = replica(open_meeting, hub, "A", settings)
    first = await opened(sessions, open_meeting.meeting_id)
    refused = await sessions.open(open_meeting.meeting_id, None, None)
    assert isinstance(refused, LiveRefusal) and refused.code == "busy"
    await asyncio.wait_for(sessions.stop(first.session_id), TIMEOUT_S)


async def test_a_dropped_client_reattaches_here_and_another_replica_redirects_it(
    open_meeting: Meeting, hub: RecordingHub, settings: Settings
) -> None:
    sessions, _ = replica(open_meeting, hub, "A", settings)
    elsewhere, _ = replica(open_meeting, hub, "B", settings)
    started = await opened(sessions, open_meeting.meeting_id)
    sessions.detach(started.session_id)

    again = await sessions.open(open_meeting.meeting_id, started.session_id, "A")
    assert again == started  # same session, same job, nothing lost
    redirect = await elsewhere.open(open_meeting.meeting_id, started.session_id, None)
    assert redirect == LiveRedirect("A")  # the job row names the owner
    await asyncio.wait_for(sessions.stop(started.session_id), TIMEOUT_S)


async def test_a_lost_lease_forgets_the_session_without_ending_it(
    open_meeting: Meeting, hub: RecordingHub, settings: Settings
) -> None:
    sessions, _ = replica(open_meeting, hub, "A", settings)
    started = await opened(sessions, open_meeting.meeting_id)
    sessions.drop_job(started.job_id)

    reply = await sessions.stop(started.session_id)
    assert isinstance(reply, LiveRefusal) and reply.code == "unknown_session"
    with open_meeting.db.session() as session:
        job = get_job(session, started.job_id)
        assert job is not None and job.status == "processing"  # the new owner finishes it
