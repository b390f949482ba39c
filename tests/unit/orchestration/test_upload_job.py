"""``UploadJob`` end to end without Ray: a real WAV decoded for real, windows planned at the fake
VAD's silences, the models scripted per window, the real event log and database.

Four utterances of 2 s with 1 s pauses plan into four windows (one utterance each), so the
fake models can tell the windows apart by their audio.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from core.windowing import WindowOptions
from deployments.failures import INTERNAL
from deployments.job_state import JobState
from deployments.pipeline import UploadJob
from persistence import get_job, list_segments
from persistence.models import Meeting as MeetingRow
from tests.unit.orchestration.fakes import (
    Meeting,
    MetricsLog,
    RecordingHub,
    ScriptedModels,
    eventually,
    silence,
    utterances,
    write_wav,
)

WINDOWS = WindowOptions(target_s=3.0, min_s=1.0, max_s=4.0, search_s=1.0)
TIMEOUT_S = 10


def upload_job(
    meeting: Meeting, hub: RecordingHub, models: ScriptedModels, concurrency: int = 3
) -> UploadJob:
    state = JobState(job_id=meeting.job_id, meeting_id=meeting.meeting_id)
    return UploadJob(state, models.models(), hub, meeting.db, WINDOWS, concurrency, 3600.0)


def four_windows(tmp_path: Path) -> str:
    return str(write_wav(tmp_path / "standup.wav", utterances(4, speech_s=2.0, pause_s=1.0)))


def window_of(event: dict[str, object]) -> int:
    segment = event["segment"]
    assert isinstance(segment, dict)
    return int(segment["window"])


async def test_windows_finishing_out_of_order_are_published_in_order(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub
) -> None:
    # Window 3 answers first, then 2, then 1 (window 0 always runs alone, first).
    models = ScriptedModels(after={1: 2, 2: 3})
    await asyncio.wait_for(upload_job(meeting, hub, models).run(four_windows(tmp_path)), TIMEOUT_S)

    assert models.finished == [0, 3, 2, 1], "the scenario really finished out of order"
    transcripts = hub.of_type("transcript")
    assert [window_of(e) for e in transcripts] == [0, 1, 2, 3]
    assert hub.transcript_words() == ["u0", "u1", "u2", "u3"]
    # Window-local word times come out as meeting times: utterance k starts at 3k seconds.
    assert [e["segment"]["start"] for e in transcripts] == [0.0, 3.0, 6.0, 9.0]
    seqs = [e["seq"] for e in hub.sent]
    assert seqs == list(range(1, len(seqs) + 1))
    aligned = [e["details"] for e in hub.of_type("status") if e["details"]["stage"] == "alignment"]
    assert [d["window"] for d in aligned] == [1, 2, 3, 4]
    # The count is known once the stream is decoded: at the latest with the last window.
    assert (aligned[-1]["message"], aligned[-1]["windows"]) == ("Aligned window 4 of 4", 4)
    assert [d["progress"] for d in aligned] == sorted(d["progress"] for d in aligned)
    assert [e["type"] for e in hub.sent[-2:]] == ["summary", "status"]
    assert hub.sent[-1]["status"] == "completed"


async def test_each_window_is_published_as_soon_as_every_earlier_one_is_done(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub
) -> None:
    slow_window = asyncio.Event()
    models = ScriptedModels(hold={2: slow_window})
    job = asyncio.create_task(upload_job(meeting, hub, models).run(four_windows(tmp_path)))
    await asyncio.wait_for(models.wait_started(4), TIMEOUT_S)
    # windows 0, 1 and 3 answer; 2 is held
    await eventually(lambda: len(models.finished) == 3 and len(hub.of_type("transcript")) == 2)
    await asyncio.sleep(0.1)  # time enough for window 3 to be (wrongly) published
    assert [window_of(e) for e in hub.of_type("transcript")] == [0, 1]
    slow_window.set()
    await asyncio.wait_for(job, TIMEOUT_S)
    assert [window_of(e) for e in hub.of_type("transcript")] == [0, 1, 2, 3]


async def test_the_first_window_runs_alone(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub
) -> None:
    first = asyncio.Event()
    models = ScriptedModels(hold={0: first})
    job = asyncio.create_task(upload_job(meeting, hub, models).run(four_windows(tmp_path)))
    await asyncio.wait_for(models.wait_started(1), TIMEOUT_S)
    await asyncio.sleep(0.1)
    assert [c.utterances for c in models.calls] == [[0]], "no other window shares the models"
    first.set()
    await asyncio.wait_for(job, TIMEOUT_S)
    assert sorted(c.utterances[0] for c in models.calls) == [0, 1, 2, 3]


async def test_the_job_is_recorded_in_the_database(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub, metrics: MetricsLog
) -> None:
    models = ScriptedModels(after={1: 3})
    await asyncio.wait_for(upload_job(meeting, hub, models).run(four_windows(tmp_path)), TIMEOUT_S)
    with meeting.db.session() as session:
        job = get_job(session, meeting.job_id)
        row = session.get(MeetingRow, meeting.meeting_id)
        segments = list_segments(session, meeting.meeting_id)
        assert job is not None and (job.status, job.windows_done, job.windows_total) == (
            "completed",
            4,
            4,
        )
        assert row is not None and (row.status, row.duration) == ("completed", 12.0)
        assert [(s.window, s.text) for s in segments] == [(k, f"u{k}") for k in range(4)]
    assert metrics.named("record_job_outcome") == [("completed",)]
    assert len(metrics.named("record_windows_processed")) == 4


async def test_a_failing_window_fails_the_job_with_a_clean_message(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub, metrics: MetricsLog
) -> None:
    raw = RuntimeError("ray::Transcriber.transcribe() (pid=4242) Traceback: /home/x/model.py")
    # Window 2 fails once 0 and 1 are published and 3 has answered (and waits for 2).
    release = asyncio.Event()
    models = ScriptedModels(hold={2: release}, fail={2: raw})
    job = asyncio.create_task(upload_job(meeting, hub, models).run(four_windows(tmp_path)))
    await eventually(lambda: 3 in models.finished and len(hub.of_type("transcript")) == 2)
    release.set()
    await asyncio.wait_for(job, TIMEOUT_S)  # never raises: the failure is the job's outcome

    message, code = INTERNAL
    assert [window_of(e) for e in hub.of_type("transcript")] == [0, 1]
    assert [(e["error"], e["code"]) for e in hub.of_type("error")] == [(message, code)]
    assert (hub.sent[-1]["type"], hub.sent[-1]["status"]) == ("status", "failed")
    assert hub.sent[-1]["details"]["message"] == message
    assert not hub.of_type("summary")
    assert all("Traceback" not in str(e) for e in hub.sent)
    with meeting.db.session() as session:
        job = get_job(session, meeting.job_id)
        row = session.get(MeetingRow, meeting.meeting_id)
        assert job is not None
        assert (job.status, job.error, job.error_code, job.windows_done) == (
            "failed",
            message,
            code,
            2,
        )
        assert row is not None and row.status == "failed"
        assert len(list_segments(session, meeting.meeting_id)) == 2  # what was published stays
    assert metrics.named("record_job_outcome") == [("failed",)]
    assert metrics.named("record_error") == [(code,)]


async def test_a_window_still_running_when_another_fails_publishes_nothing_after_the_failure(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub
) -> None:
    slow = asyncio.Event()
    models = ScriptedModels(hold={1: slow}, fail={2: RuntimeError("model crashed")})
    job = asyncio.create_task(upload_job(meeting, hub, models).run(four_windows(tmp_path)))
    await eventually(lambda: 2 in models.failed)
    await asyncio.sleep(0.05)  # the job may publish its failure now, or wait for window 1
    slow.set()  # window 1 answers only after window 2 failed
    await asyncio.wait_for(job, TIMEOUT_S)
    await asyncio.sleep(0.1)  # anything still running would publish now
    kinds = [e["type"] for e in hub.sent]
    assert hub.sent[-1]["status"] == "failed", kinds
    assert all(i < kinds.index("error") for i, k in enumerate(kinds) if k == "transcript"), kinds
    assert [window_of(e) for e in hub.of_type("transcript")] in ([0], [0, 1])


async def test_audio_without_speech_fails_with_no_speech(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub
) -> None:
    path = str(write_wav(tmp_path / "quiet.wav", silence(3.0)))
    models = ScriptedModels()
    await asyncio.wait_for(upload_job(meeting, hub, models).run(path), TIMEOUT_S)
    assert models.calls == []
    assert [(e["type"], e.get("code") or e.get("status")) for e in hub.sent] == [
        ("status", "processing"),
        ("error", "no_speech"),
        ("status", "failed"),
    ]
    assert hub.of_type("error")[0]["error"] == "No speech was found in the audio"
    # The whole file was read: its length goes with the failure (the OpenAI API reports it).
    assert hub.of_type("status")[-1]["details"]["duration"] == pytest.approx(3.0)
    with meeting.db.session() as session:
        row = session.get(MeetingRow, meeting.meeting_id)
        assert row is not None and (row.status, row.duration) == ("failed", pytest.approx(3.0))


@pytest.mark.parametrize("window_count", [1, 4])
async def test_window_count_and_length_arrive_by_the_last_window(
    tmp_path: Path, meeting: Meeting, hub: RecordingHub, window_count: int
) -> None:
    audio = utterances(window_count, speech_s=2.0, pause_s=1.0)
    path = str(write_wav(tmp_path / "a.wav", audio))
    await asyncio.wait_for(upload_job(meeting, hub, ScriptedModels()).run(path), TIMEOUT_S)
    statuses = [e["details"] for e in hub.of_type("status") if e.get("details")]
    counted = [d for d in statuses if "windows" in d]
    assert counted and all(d["windows"] == window_count for d in counted)
    last = [d for d in statuses if d["stage"] == "alignment"][-1]
    assert (last["window"], last["windows"]) == (window_count, window_count)
    assert last["duration"] == pytest.approx(3.0 * window_count)
