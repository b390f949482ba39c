"""``LiveSession`` when transcription is slower than the microphone: waiting windows merge into
one decode (up to Whisper's 30 s horizon), a client too far ahead is refused, and a failing
window ends the session cleanly. Real session, event log and database; scripted models and VAD.

Each utterance is 2 s of speech and a 0.5 s pause, so the session cuts one window per utterance.
"""

from __future__ import annotations

import asyncio
import math

import numpy as np
import pytest

from core.clips import CLIP_MAX_S
from core.types import SAMPLE_RATE
from deployments import live
from deployments.failures import INTERNAL, JobFailedError
from deployments.job_state import JobState
from deployments.live import LiveSession, LiveSessionError
from deployments.partials import PartialBudget
from persistence import get_job
from tests.unit.orchestration.fakes import (
    Meeting,
    RecordingHub,
    ScriptedModels,
    eventually,
    to_pcm16,
    utterances,
)

CHUNK = SAMPLE_RATE // 10  # 100 ms frames, as the browser sends
UTTERANCE_S = 2.5
TIMEOUT_S = 10


def live_session(meeting: Meeting, hub: RecordingHub, models: ScriptedModels) -> LiveSession:
    state = JobState(job_id=meeting.job_id, meeting_id=meeting.meeting_id)
    # No partials: these tests are about the finals' queue.
    return LiveSession(
        state, models.models(), hub, meeting.db, "s1", partial_budget=PartialBudget(0)
    )


async def send(session: LiveSession, audio: np.ndarray) -> None:
    pcm = to_pcm16(audio)
    for offset in range(0, len(pcm), CHUNK * 2):
        session.feed(pcm[offset : offset + CHUNK * 2])
        await asyncio.sleep(0)  # let the worker run between frames, as a socket would


def said(first: int, count: int = 1) -> np.ndarray:
    return utterances(count, speech_s=2.0, pause_s=0.5, first=first)


@pytest.fixture
def unlimited_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    """Send minutes of audio in milliseconds (the real-time check has its own test)."""
    monkeypatch.setattr(live, "REALTIME_SLACK_S", 1e6)


@pytest.mark.usefixtures("unlimited_rate")
async def test_windows_waiting_behind_a_slow_decode_are_merged_into_one(
    live_meeting: Meeting, live_hub: RecordingHub
) -> None:
    slow = asyncio.Event()
    models = ScriptedModels(hold={0: slow})
    session = live_session(live_meeting, live_hub, models)
    await session.open()
    await send(session, said(0))
    await asyncio.wait_for(models.wait_started(1), TIMEOUT_S)
    await send(session, said(1, count=4))  # four windows cut while the first is decoded
    slow.set()
    await asyncio.wait_for(session.stop(), TIMEOUT_S)

    assert [c.utterances for c in models.calls] == [[0], [1, 2, 3, 4]]
    transcripts = live_hub.of_type("transcript")
    assert live_hub.transcript_words() == ["u0", "u1", "u2", "u3", "u4"]
    # The merged final carries the id of its first window (the partials' utterance).
    assert {e["segment"]["segment_id"] for e in transcripts} == {
        session.segment_id(0),
        session.segment_id(1),
    }
    starts = [w["start"] for e in transcripts for w in e["segment"]["words"]]
    assert starts == pytest.approx([k * UTTERANCE_S for k in range(5)], abs=0.01)
    live_status = [e["details"] for e in live_hub.of_type("status") if "lag_s" in e["details"]]
    assert [d["window"] for d in live_status] == [0, 1]
    assert live_status[0]["lag_s"] > live_status[1]["lag_s"] >= 0  # caught up after the merge
    assert live_hub.sent[-1]["status"] == "completed"


@pytest.mark.usefixtures("unlimited_rate")
async def test_a_merge_never_exceeds_the_decoders_horizon(
    live_meeting: Meeting, live_hub: RecordingHub
) -> None:
    slow = asyncio.Event()
    models = ScriptedModels(hold={0: slow})
    session = live_session(live_meeting, live_hub, models)
    await session.open()
    await send(session, said(0))
    await asyncio.wait_for(models.wait_started(1), TIMEOUT_S)
    await send(session, said(1, count=16))  # 40 s waiting: more than one decode can take
    slow.set()
    await asyncio.wait_for(session.stop(), TIMEOUT_S)

    merged = models.calls[1:]
    assert len(merged) >= 2 and all(len(c.utterances) > 1 for c in merged)
    assert all(c.seconds <= CLIP_MAX_S for c in merged)
    assert [k for c in models.calls for k in c.utterances] == list(range(17))
    assert live_hub.transcript_words() == [f"u{k}" for k in range(17)]


async def test_a_client_sending_faster_than_real_time_is_refused(
    live_meeting: Meeting, live_hub: RecordingHub
) -> None:
    models = ScriptedModels()
    session = live_session(live_meeting, live_hub, models)
    await session.open()
    with pytest.raises(LiveSessionError) as refused:
        await send(session, said(0, count=6))  # 15 s at once; 10 s of slack is allowed
    assert (refused.value.code, refused.value.message) == (
        "too_fast",
        "Audio is arriving faster than real time",
    )
    accepted = session.received_s  # the slack, plus the little wall time the sending took
    assert live.REALTIME_SLACK_S - 0.2 < accepted < live.REALTIME_SLACK_S + 1.0
    await asyncio.wait_for(session.stop(), TIMEOUT_S)  # what was accepted is still transcribed
    begun = math.ceil((accepted - 0.01) / UTTERANCE_S)  # utterances with accepted speech
    assert live_hub.transcript_words() == [f"u{k}" for k in range(begun)]
    assert live_hub.sent[-1]["status"] == "completed"


@pytest.mark.usefixtures("unlimited_rate")
async def test_a_backlog_past_the_bound_is_refused_and_the_session_recovers(
    live_meeting: Meeting, live_hub: RecordingHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "MAX_BACKLOG_S", 6.0)
    slow = asyncio.Event()
    models = ScriptedModels(hold={0: slow})
    session = live_session(live_meeting, live_hub, models)
    await session.open()
    await send(session, said(0))
    await asyncio.wait_for(models.wait_started(1), TIMEOUT_S)
    sent = 1
    with pytest.raises(LiveSessionError) as refused:
        for k in range(1, 10):
            await send(session, said(k))
            sent += 1
    assert (refused.value.message, refused.value.code) == (
        "Transcription cannot keep up; try again later",
        "overloaded",
    )
    # Refused in utterance 3's pause, once windows 1-3 (7.5 s) wait behind the held decode.
    assert sent == 3
    assert session.received_s == pytest.approx(3 * UTTERANCE_S + 2.0 + 0.3, abs=0.2)
    slow.set()
    await asyncio.wait_for(session.stop(), TIMEOUT_S)
    assert live_hub.transcript_words() == ["u0", "u1", "u2", "u3"]  # all it accepted
    assert live_hub.sent[-1]["status"] == "completed"


async def test_a_failing_window_stops_the_session_with_a_clean_error(
    live_meeting: Meeting, live_hub: RecordingHub
) -> None:
    models = ScriptedModels(fail={1: RuntimeError("ray::Transcriber (pid=1) Traceback ...")})
    session = live_session(live_meeting, live_hub, models)
    await session.open()
    await send(session, said(0))
    await eventually(lambda: len(live_hub.of_type("transcript")) == 1)
    await send(session, said(1))
    with pytest.raises(JobFailedError) as failed:
        await asyncio.wait_for(session.stop(), TIMEOUT_S)
    assert (failed.value.message, failed.value.code) == INTERNAL
    # What the Processor does with it (``live_stop``): the session ends failed.
    await session.fail(failed.value.message, failed.value.code)
    assert live_hub.transcript_words() == ["u0"]
    assert [(e["error"], e["code"]) for e in live_hub.of_type("error")] == [INTERNAL]
    assert live_hub.sent[-1]["status"] == "failed"
    with live_meeting.db.session() as s:
        job = get_job(s, live_meeting.job_id)
        assert job is not None and (job.status, job.error_code) == ("failed", INTERNAL[1])
