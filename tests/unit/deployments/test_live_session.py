"""The Processor's live session with odd-length PCM (issue #15, item 4) and clean failures.

Real ``LiveSession`` on a real database and event log; the models are the edge (fixed results),
so no Ray and no weights are needed.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest

from core.audio import AudioDecodeError
from core.types import DiarizationResult, Segment, SummaryResult, TranscriptionResult
from deployments.failures import INTERNAL, public_failure
from deployments.job_state import JobState, Models
from deployments.live import LiveSession
from persistence import Database, create_job, create_meeting, create_user, get_job, upgrade_database
from persistence.models import Meeting
from persistence.quotas import QuotaExceeded, check_live_slot
from rooms.hub import EventLog
from settings.config import Settings


async def transcribe(
    _audio: np.ndarray,
    _language: str | None = None,
    _task: str = "transcribe",
    _speech: object = None,
) -> TranscriptionResult:
    return TranscriptionResult(words=[], text="")


async def detect(_audio: np.ndarray) -> tuple[str, float]:
    return "en", 1.0


async def diarize(_audio: np.ndarray, _speech: object = None) -> DiarizationResult:
    return DiarizationResult(turns=[])


async def summarize(_segments: list[Segment], _language: str | None = None) -> SummaryResult:
    return SummaryResult(summary="-", engine="test")


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade_database(url)
    return Database(url)


def new_session(database: Database) -> LiveSession:
    with database.session() as session:
        user = create_user(session, email="a@example.com", name="a", password_hash="x")
        meeting = create_meeting(session, owner_id=user.id, title="t")
        job = create_job(session, meeting.id, source="live")
    return LiveSession(
        JobState(job_id=job.id, meeting_id=meeting.id),
        Models(transcribe, diarize, summarize, detect, lambda _language: False),
        EventLog(database.url),
        database,
        session_id="s1",
    )


async def test_odd_length_chunks_are_joined_and_the_session_completes(
    database: Database,
) -> None:
    live = new_session(database)
    await live.open()
    stream = np.zeros(16_000, dtype="<i2").tobytes()  # one second of silence
    for start, end in ((0, 8001), (8001, 8004), (8004, 32_000)):
        live.feed(stream[start:end])  # an odd chunk raised AudioDecodeError before
    assert live.received == 16_000
    await asyncio.wait_for(live.stop(), 10)
    with database.session() as session:
        job = get_job(session, live.state.job_id)
        meeting = session.get(Meeting, live.state.meeting_id)
        assert job is not None and job.status == "completed"
        assert meeting is not None and meeting.status == "completed"


def test_unexpected_errors_become_a_clean_message() -> None:
    raw = RuntimeError("ray::Transcriber.transcribe() (pid=4242) Traceback: /home/x/model.py")
    assert public_failure(raw) == INTERNAL
    assert "Traceback" not in public_failure(raw)[0]
    decode = AudioDecodeError("The file contains no audio samples.", "empty_audio")
    assert public_failure(decode) == ("The file contains no audio samples.", "empty_audio")


def test_live_sessions_over_the_owner_cap_are_refused(database: Database, tmp_path: Path) -> None:
    settings = Settings(
        environment="test", data_dir=tmp_path, jwt_secret="x" * 32, max_live_sessions_per_user=2
    )
    with database.session() as session:
        user = create_user(session, email="b@example.com", name="b", password_hash="x")
        meetings = [create_meeting(session, owner_id=user.id, title="t").id for _ in range(3)]
        for meeting_id in meetings[:2]:
            check_live_slot(session, settings, meeting_id)
            create_job(session, meeting_id, source="live")
        with pytest.raises(QuotaExceeded, match="already has 2 live sessions") as refused:
            check_live_slot(session, settings, meetings[2])
        assert refused.value.retry_after_s == 30


async def test_live_audio_loses_its_dc_offset_before_the_models(database: Database) -> None:
    live = new_session(database)
    await live.open()
    t = np.arange(16_000) / 16_000
    audio = 0.4 + 0.2 * np.sin(2 * np.pi * 200 * t)
    pcm = (audio * 32767).astype("<i2").tobytes()
    live.feed(pcm[:10_001])
    live.feed(pcm[10_001:])
    buffered = live._buffer  # what VAD, windows and the models read
    assert abs(float(buffered[2_400:].mean())) < 0.01  # faded after 0.15 s
    await asyncio.wait_for(live.stop(), 10)
