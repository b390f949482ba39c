"""``JobOutput`` on its own, the collaborator upload jobs and live sessions hand their windows
to: what a finished window, a finished job and a failure each leave in the database, the
room and the metrics (real SQLite, the hub's in-process event log)."""

from __future__ import annotations

from typing import Any

import pytest

from core.types import (
    DiarizationResult,
    Segment,
    SpeakerTurn,
    SummaryResult,
    TranscriptionResult,
    Word,
)
from core.windowing import Window
from deployments.failures import JobFailedError
from deployments.job_output import JobOutput
from deployments.job_state import JobState, WindowResult
from persistence import list_segments
from persistence.models import Job
from persistence.models import Meeting as MeetingRow
from tests.unit.orchestration.fakes import Meeting, MetricsLog, RecordingHub


def spoken(index: int, words: list[str]) -> WindowResult:
    """A window of 2 s per word, all said by one diarized speaker."""
    start = index * 10.0
    timed = [Word(w, 2.0 * k, 2.0 * k + 1.5) for k, w in enumerate(words)]
    end = 2.0 * len(words)
    return WindowResult(
        Window(index, start, start + end),
        TranscriptionResult(timed, " ".join(words), "en", end),
        DiarizationResult([SpeakerTurn(0.0, end, "A")], {"A": [1.0, 0.0]}),
    )


async def summarize(segments: list[Segment], _language: str | None) -> SummaryResult:
    return SummaryResult(summary=f"{len(segments)} segment(s).", engine="fake")


def output_for(meeting: Meeting, hub: RecordingHub, **kwargs: Any) -> JobOutput:
    state = JobState(job_id=meeting.job_id, meeting_id=meeting.meeting_id)
    return JobOutput(state, hub, meeting.db, kwargs.pop("summarize", summarize), **kwargs)


async def test_a_window_is_stored_then_published_and_counted(
    meeting: Meeting, hub: RecordingHub, metrics: MetricsLog
) -> None:
    output = output_for(meeting, hub)
    await output.start(2)
    first = await output.publish_window(spoken(0, ["hello", "there"]))
    await output.publish_window(spoken(1, ["bye"]), segment_id="s-u1")

    assert [s.text for s in first] == ["hello there"]
    assert [(s.segment_id, s.speaker) for s in output.state.segments] == [
        (None, "SPEAKER_00"),
        ("s-u1", "SPEAKER_00"),  # linked to the speaker of window 0
    ]
    sent = hub.of_type("transcript")
    assert [e["segment"]["text"] for e in sent] == ["hello there", "bye"]
    assert len({e["event_id"] for e in sent}) == 2
    with meeting.db.session() as session:
        stored = list_segments(session, meeting.meeting_id)
        job = session.get(Job, meeting.job_id)
        assert [(s.window, s.text) for s in stored] == [(0, "hello there"), (1, "bye")]
        assert job is not None and (job.status, job.windows_done, job.windows_total) == (
            "processing",
            2,
            2,
        )
    assert output.state.published == 2
    assert len(metrics.named("record_windows_processed")) == 2
    assert len(metrics.named("record_time_to_first_segment")) == 1  # once, at the first segment


async def test_a_windows_segments_reach_the_room_in_one_publish(
    meeting: Meeting, hub: RecordingHub
) -> None:
    """One hub call per window: one transaction, and one frame for a batching socket."""
    output = output_for(meeting, hub)
    await output.start(1)
    words = [Word("hi", 0.5, 1.0), Word("there", 1.2, 1.6), Word("yes", 4.5, 5.0)]
    two_voices = WindowResult(
        Window(0, 0.0, 6.0),
        TranscriptionResult(words, "hi there yes", "en", 6.0),
        DiarizationResult(
            [SpeakerTurn(0.0, 2.0, "A"), SpeakerTurn(4.0, 6.0, "B")],
            {"A": [1.0, 0.0], "B": [0.0, 1.0]},
        ),
    )
    segments = await output.publish_window(two_voices)
    assert len(segments) == 2
    assert ["transcript", "transcript"] in hub.batches
    assert [e["seq"] for e in hub.of_type("transcript")] == [1, 2]


async def test_resume_fields_of_the_job_kind_are_stored_with_each_window(
    meeting: Meeting, hub: RecordingHub
) -> None:
    def live_fields(window: Window | None) -> dict[str, Any]:
        return {"session_id": "s1", "audio_end_s": window.end if window else 0.0}

    output = output_for(meeting, hub, resume_fields=live_fields)
    await output.start(None)
    await output.publish_window(spoken(0, ["one", "two"]))
    with meeting.db.session() as session:
        job = session.get(Job, meeting.job_id)
        assert job is not None and job.resume_state is not None
        assert (job.resume_state["session_id"], job.resume_state["audio_end_s"]) == ("s1", 4.0)


async def test_finishing_summarises_then_completes_in_that_order(
    meeting: Meeting, hub: RecordingHub, metrics: MetricsLog
) -> None:
    output = output_for(meeting, hub)
    await output.start(1)
    await output.publish_window(spoken(0, ["hello"]))
    await output.finish(2.0)

    kinds = [(e["type"], e.get("status")) for e in hub.sent if e["type"] != "transcript"]
    assert kinds[-3:] == [("status", "processing"), ("summary", None), ("status", "completed")]
    assert hub.of_type("summary")[0]["summary"] == "1 segment(s)."
    with meeting.db.session() as session:
        job = session.get(Job, meeting.job_id)
        row = session.get(MeetingRow, meeting.meeting_id)
        assert job is not None and job.status == "completed"
        assert row is not None and (row.status, row.duration) == ("completed", 2.0)
    assert metrics.named("record_job_outcome") == [("completed",)]


async def test_a_failing_summarizer_is_a_job_failure_with_a_code(
    meeting: Meeting, hub: RecordingHub
) -> None:
    async def broken(_segments: list[Segment], _language: str | None) -> SummaryResult:
        raise RuntimeError("CUDA out of memory at /opt/model.py:12")

    output = output_for(meeting, hub, summarize=broken)
    await output.start(1)
    await output.publish_window(spoken(0, ["hello"]))
    with pytest.raises(JobFailedError) as failed:
        await output.finish(2.0)
    assert (failed.value.message, failed.value.code) == (
        "Summarization failed: RuntimeError",  # the type, never the text (paths, internals)
        "summarizer_failed",
    )


async def test_failing_tells_the_room_stores_the_outcome_and_counts_the_code(
    meeting: Meeting, hub: RecordingHub, metrics: MetricsLog
) -> None:
    output = output_for(meeting, hub)
    await output.start(1)
    await output.fail("No speech was found in the audio", "no_speech")

    error = hub.of_type("error")
    assert [(e["error"], e["code"]) for e in error] == [
        ("No speech was found in the audio", "no_speech")
    ]
    assert hub.sent[-1]["type"] == "status" and hub.sent[-1]["status"] == "failed"
    with meeting.db.session() as session:
        job = session.get(Job, meeting.job_id)
        assert job is not None and (job.status, job.error_code) == ("failed", "no_speech")
    assert metrics.named("record_job_outcome") == [("failed",)]
    assert metrics.named("record_error") == [("no_speech",)]


async def test_a_meeting_with_no_language_set_is_told_the_default_once(
    meeting: Meeting, hub: RecordingHub, metrics: MetricsLog
) -> None:
    output = output_for(meeting, hub)
    await output.start(3)
    assert output.state.language.requested is None
    await output.publish_window(spoken(0, []))  # silence: nothing to tell yet
    await output.publish_window(spoken(1, ["hello"]))
    await output.publish_window(spoken(2, ["bye"]))
    told = [e["details"] for e in hub.of_type("status") if e["details"].get("language")]
    assert told == [
        {
            "stage": "transcription",
            "message": "Transcribing in English (no language was set)",
            "language": "en",
            "language_source": "default",
            "job_id": meeting.job_id,
        }
    ]


async def test_a_meeting_with_its_language_set_is_not_told_a_default(
    meeting: Meeting, hub: RecordingHub, metrics: MetricsLog
) -> None:
    from persistence.languages import set_language_settings

    with meeting.db.session() as session:
        set_language_settings(session, meeting.meeting_id, language="en", translate_to=None)
    output = output_for(meeting, hub)
    await output.start(1)
    await output.publish_window(spoken(0, ["hello"]))
    assert not [e for e in hub.of_type("status") if e["details"].get("language")]
