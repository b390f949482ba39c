"""Upload → windowed diarization + transcription → segments streamed per window → summary.

Runs the real CPU profile (faster-whisper tiny.en, embedded diarizer, extractive summary) on a
synthetic three-speaker meeting spoken by distinct festival voices.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from benchmarks.scoring import (
    action_item_recall,
    diarization_error_rate,
    spans_from_reference,
    spans_from_segments,
    word_error_rate,
)
from scripts.synth_meeting import MeetingAudio, ensure_meeting
from tests.integration.client import ApiUser, Received, collect_until_done, register
from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def standup() -> MeetingAudio:
    return ensure_meeting("standup3", install=True)


@pytest.fixture(scope="module")
def processed(
    platform: RunningPlatform, standup: MeetingAudio
) -> tuple[ApiUser, str, list[Received]]:
    """One upload shared by the assertions below (processing takes a while on 2 cores)."""
    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting()

    async def run() -> list[Received]:
        listener = asyncio.create_task(collect_until_done(user, meeting_id, last_seq=0))
        await asyncio.sleep(0.5)  # let the socket connect before processing starts
        response = await asyncio.to_thread(user.upload, meeting_id, standup.audio_path)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
        return await listener

    return user, meeting_id, asyncio.run(run())


def of_type(received: list[Received], kind: str) -> list[dict[str, Any]]:
    return [r.message for r in received if r.message["type"] == kind]


def test_job_completes_with_every_seed_stage(
    processed: tuple[ApiUser, str, list[Received]],
) -> None:
    _, _, received = processed
    statuses = of_type(received, "status")
    assert statuses[-1]["status"] == "completed", statuses[-1]
    stages = [s["details"]["stage"] for s in statuses]
    for stage in ("upload", "diarization", "transcription", "alignment", "summarization", "done"):
        assert stage in stages
    assert len(of_type(received, "summary")) == 1
    assert of_type(received, "error") == []


def test_events_arrive_in_seq_order_without_gaps(
    processed: tuple[ApiUser, str, list[Received]],
) -> None:
    _, _, received = processed
    seqs = [r.message["seq"] for r in received if "seq" in r.message]
    assert seqs == list(range(1, len(seqs) + 1))
    starts = [t["segment"]["start"] for t in of_type(received, "transcript")]
    assert starts == sorted(starts)


def test_first_segment_arrives_before_the_last_window_is_done(
    processed: tuple[ApiUser, str, list[Received]],
) -> None:
    _, _, received = processed
    alignment = [
        r
        for r in received
        if r.message["type"] == "status" and r.message["details"]["stage"] == "alignment"
    ]
    windows = alignment[-1].message["details"]["windows"]
    assert windows >= 3
    first_transcript = next(r for r in received if r.message["type"] == "transcript")
    assert first_transcript.at < alignment[-1].at - 1.0


def test_transcript_accuracy_and_speakers(
    processed: tuple[ApiUser, str, list[Received]], standup: MeetingAudio
) -> None:
    _, _, received = processed
    segments = [t["segment"] for t in of_type(received, "transcript")]
    reference = standup.reference["turns"]
    wer = word_error_rate(
        " ".join(t["text"] for t in reference), " ".join(s["text"] for s in segments)
    )
    der = diarization_error_rate(spans_from_reference(reference), spans_from_segments(segments))
    speakers = {s["speaker"] for s in segments}
    print(f"standup3: WER={wer:.3f} DER={der:.3f} speakers={sorted(speakers)}")
    assert wer <= 0.15
    assert len(speakers) == 3
    assert der <= 0.15
    assert all(s["timestamp"] == s["start"] for s in segments)


def test_exports_and_summary(
    processed: tuple[ApiUser, str, list[Received]], standup: MeetingAudio
) -> None:
    user, meeting_id, _ = processed
    for fmt in ("json", "txt", "srt", "vtt", "rttm"):
        r = user.get(f"/api/meetings/{meeting_id}/transcript", format=fmt)
        assert r.status_code == 200, (fmt, r.text)
        assert r.text.strip()
    assert user.get(f"/api/meetings/{meeting_id}/transcript", format="srt").text.startswith("1\n")
    summary = user.get(f"/api/meetings/{meeting_id}/summary").json()
    assert summary["summary"]
    found = summary["details"]["action_items"]
    recall = action_item_recall(standup.reference["action_items"], found)
    print(f"standup3 action items: recall={recall:.2f} found={len(found)}")
    assert recall >= 0.7
    assert user.get(f"/api/meetings/{meeting_id}/summary", format="md").status_code == 200
    meeting = user.get(f"/api/meetings/{meeting_id}").json()
    assert meeting["status"] == "completed"
    assert meeting["duration"] == pytest.approx(standup.duration, abs=0.5)
