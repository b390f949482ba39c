"""Bad input never loses stored data and never stops the service (real CPU profile)."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import numpy as np
import pytest

from scripts.synth_meeting import ensure_meeting
from tests.integration.client import ApiUser, collect_until_done, register
from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow


def write_wav(path: Path, samples: np.ndarray) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(pcm)
    return path


def process(user: ApiUser, meeting_id: str, path: Path, replace: bool = False) -> list[dict]:  # type: ignore[type-arg]
    """Upload and return the room messages published for this job (replayed from seq 0)."""
    response = user.upload(meeting_id, path, replace=replace)
    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    received = asyncio.run(
        collect_until_done(user, meeting_id, timeout_s=300, last_seq=0, job_id=job_id)
    )
    first = next(
        i for i, r in enumerate(received) if r.message.get("details", {}).get("job_id") == job_id
    )
    return [r.message for r in received[first:]]


@pytest.fixture(scope="module")
def user(platform: RunningPlatform) -> ApiUser:
    return register(platform.base_url, platform.ws_url)


@pytest.fixture(scope="module")
def finished_meeting(user: ApiUser) -> tuple[str, list[dict]]:  # type: ignore[type-arg]
    meeting_id = user.create_meeting("Short meeting")
    events = process(user, meeting_id, ensure_meeting("short2", install=True).audio_path)
    assert events[-1]["status"] == "completed", events[-1]
    transcript = user.get(f"/api/meetings/{meeting_id}/transcript").json()["segments"]
    assert transcript
    return meeting_id, transcript


def last_error(events: list[dict]) -> dict:  # type: ignore[type-arg]
    return [e for e in events if e["type"] == "error"][-1]


def test_truncated_file_fails_clearly_and_keeps_the_earlier_transcript(
    user: ApiUser,
    finished_meeting: tuple[str, list[dict]],
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    meeting_id, transcript = finished_meeting
    truncated = tmp_path / "truncated.flac"
    truncated.write_bytes(b"fLaC\x00\x00\x00\x22\x10\x00\x10\x00")  # the stream header, cut off
    refused = user.upload(meeting_id, truncated)  # issue #15 item 8: no silent replacement
    assert (refused.status_code, refused.json()["code"]) == (409, "transcript_exists")
    events = process(user, meeting_id, truncated, replace=True)
    error = last_error(events)
    assert error["code"] == "truncated_audio"
    assert error["error"].startswith("Processing failed")
    assert events[-1]["status"] == "failed"
    assert user.get(f"/api/meetings/{meeting_id}/transcript").json()["segments"] == transcript
    assert user.get(f"/api/meetings/{meeting_id}/summary").status_code == 200
    assert user.get(f"/api/meetings/{meeting_id}").json()["status"] == "failed"


def test_audio_without_speech_fails_with_no_speech(user: ApiUser, tmp_path: Path) -> None:
    meeting_id = user.create_meeting("Silent room")
    noise = np.random.default_rng(0).normal(0, 0.001, 16_000 * 5)
    events = process(user, meeting_id, write_wav(tmp_path / "silence.wav", noise))
    assert last_error(events)["code"] == "no_speech"
    assert last_error(events)["error"] == "No speech was found in the audio"
    assert events[-1]["status"] == "failed"
    assert user.get(f"/api/meetings/{meeting_id}/transcript").status_code == 404


def test_second_upload_while_processing_is_409_and_other_meetings_still_work(
    user: ApiUser, platform: RunningPlatform
) -> None:
    audio = ensure_meeting("short2", install=True).audio_path
    meeting_id = user.create_meeting("Busy meeting")
    assert user.upload(meeting_id, audio).status_code == 202
    second = user.upload(meeting_id, audio)
    assert second.status_code == 409
    assert "already being processed" in second.json()["detail"]
    stranger = register(platform.base_url, platform.ws_url)
    assert stranger.upload(meeting_id, audio).status_code == 404
    events = asyncio.run(collect_until_done(user, meeting_id, timeout_s=300, last_seq=0))
    assert events[-1].message["status"] == "completed"


def test_garbage_bytes_and_empty_files_are_rejected_at_upload(
    user: ApiUser, tmp_path: Path
) -> None:
    meeting_id = user.create_meeting("Garbage")
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"these are meeting notes, not audio\n" * 10)
    r = user.upload(meeting_id, garbage, name="notes.txt")
    assert r.status_code == 400
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert user.upload(meeting_id, empty).status_code == 400
    assert user.get(f"/api/meetings/{meeting_id}").json()["status"] == "created"
