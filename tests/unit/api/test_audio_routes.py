"""Upload, transcript export and summary routes against the real app and database.

The model side is the ``LocalBackend`` edge: it records submitted jobs instead of processing.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from core.types import Segment, Word
from persistence import Database, get_active_job, save_segments, save_summary
from settings.config import Settings
from tests.unit.api.conftest import Account, Api


def wav_bytes(seconds: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\x00\x01" * int(16_000 * seconds))
    return buffer.getvalue()


def upload(client: TestClient, account: Account, meeting_id: str, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/meetings/{meeting_id}/audio",
        files={"file": ("meeting.wav", data, "audio/wav")},
        headers=account.headers,
    )


def stored_files(settings: Settings, meeting_id: str) -> list[Path]:
    folder = settings.uploads_dir / meeting_id
    return sorted(folder.iterdir()) if folder.exists() else []


def test_upload_is_stored_queued_and_handed_to_the_processor(
    client: TestClient, app: FastAPI, api: Api, alice: Account, settings: Settings, db: Database
) -> None:
    meeting = api.create_meeting(alice)
    data = wav_bytes()
    r = upload(client, alice, meeting["id"], data)
    assert r.status_code == 202, r.text
    job_id = r.json()["job_id"]
    assert r.json() == {"job_id": job_id, "status": "queued"}
    [stored] = stored_files(settings, meeting["id"])
    assert stored.name == f"{job_id}.audio"
    assert stored.read_bytes() == data
    [job] = app.state.backend.submitted
    assert (job.job_id, job.meeting_id, job.audio_path) == (job_id, meeting["id"], str(stored))
    with db.session() as session:
        active = get_active_job(session, meeting["id"])
        assert active is not None and active.id == job_id


def test_second_upload_while_one_runs_is_409(
    client: TestClient, app: FastAPI, api: Api, alice: Account, settings: Settings
) -> None:
    meeting = api.create_meeting(alice)
    assert upload(client, alice, meeting["id"], wav_bytes()).status_code == 202
    r = upload(client, alice, meeting["id"], wav_bytes())
    assert r.status_code == 409
    assert "already being processed" in r.json()["detail"]
    assert len(stored_files(settings, meeting["id"])) == 1
    assert len(app.state.backend.submitted) == 1


def test_empty_and_non_audio_files_are_400_and_leave_nothing(
    client: TestClient, app: FastAPI, api: Api, alice: Account, settings: Settings
) -> None:
    meeting = api.create_meeting(alice)
    empty = upload(client, alice, meeting["id"], b"")
    assert empty.status_code == 400
    assert empty.json()["detail"] == "The uploaded file is empty"
    text = upload(client, alice, meeting["id"], b"hello, this is not audio at all")
    assert text.status_code == 400
    assert "not a supported audio format" in text.json()["detail"]
    assert stored_files(settings, meeting["id"]) == []
    assert app.state.backend.submitted == []


def test_missing_file_field_and_wrong_content_type_are_400(
    client: TestClient, api: Api, alice: Account
) -> None:
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}/audio"
    r = client.post(
        url, files={"other": ("a.wav", wav_bytes(), "audio/wav")}, headers=alice.headers
    )
    assert r.status_code == 400
    assert r.json()["detail"] == "No 'file' field in the upload"
    r = client.post(
        url, content=wav_bytes(), headers={**alice.headers, "content-type": "audio/wav"}
    )
    assert r.status_code == 400
    assert "multipart/form-data" in r.json()["detail"]


def test_upload_over_the_size_limit_is_413_and_removed(
    client: TestClient, app: FastAPI, api: Api, alice: Account, settings: Settings
) -> None:
    settings.max_upload_bytes = 4_000
    meeting = api.create_meeting(alice)
    r = upload(client, alice, meeting["id"], wav_bytes(seconds=1.0))
    assert r.status_code == 413
    assert r.json()["detail"] == "Audio file too large (limit 4000 bytes)"
    assert stored_files(settings, meeting["id"]) == []
    assert app.state.backend.submitted == []


def test_upload_access_rules(client: TestClient, api: Api, alice: Account, bob: Account) -> None:
    meeting = api.create_meeting(alice)
    assert upload(client, bob, meeting["id"], wav_bytes()).status_code == 404
    api.share(alice, meeting["id"], bob.email, role="viewer")
    r = upload(client, bob, meeting["id"], wav_bytes())
    assert r.status_code == 403
    assert r.json()["detail"] == "Viewers cannot upload audio"
    anonymous = client.post(
        f"/api/meetings/{meeting['id']}/audio", files={"file": ("a.wav", wav_bytes(), "audio/wav")}
    )
    assert anonymous.status_code == 401


SEGMENTS = [
    Segment("w0-0", "SPEAKER_00", "Good morning everyone.", 0.5, 2.0, 0, [Word("Good", 0.5, 0.8)]),
    Segment("w0-1", "SPEAKER_01", "Morning, Alice.", 2.5, 3.75, 0),
]


def test_transcript_exports(client: TestClient, api: Api, alice: Account, db: Database) -> None:
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}/transcript"
    assert client.get(url, headers=alice.headers).status_code == 404
    with db.session() as session:
        save_segments(session, meeting["id"], SEGMENTS)
    txt = client.get(url, params={"format": "txt"}, headers=alice.headers)
    assert txt.status_code == 200
    assert txt.text.splitlines() == [
        "[00:00:00] SPEAKER_00: Good morning everyone.",
        "[00:00:02] SPEAKER_01: Morning, Alice.",
    ]
    body = client.get(url, headers=alice.headers).json()
    assert [s["id"] for s in body["segments"]] == ["w0-0", "w0-1"]
    assert body["segments"][0]["timestamp"] == 0.5
    rttm = client.get(url, params={"format": "rttm"}, headers=alice.headers).text
    assert rttm.splitlines()[1].split()[3:5] == ["2.500", "1.250"]
    for fmt in ("srt", "vtt"):
        assert client.get(url, params={"format": fmt}, headers=alice.headers).status_code == 200
    assert client.get(url, params={"format": "doc"}, headers=alice.headers).status_code == 422


def test_summary_read_and_regenerate(
    client: TestClient, app: FastAPI, api: Api, alice: Account, bob: Account, db: Database
) -> None:
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}/summary"
    assert client.get(url, headers=alice.headers).status_code == 404
    assert client.post(url, headers=alice.headers).status_code == 404
    payload = {
        "summary": "We planned the release.",
        "action_items": ["SPEAKER_01: send the build to QA (Friday)"],
        "details": {
            "action_items": [
                {"text": "send the build to QA", "owner": "SPEAKER_01", "due": "Friday"}
            ],
            "decisions": [],
            "topics": ["release"],
        },
    }
    with db.session() as session:
        save_segments(session, meeting["id"], SEGMENTS)
        save_summary(session, meeting["id"], payload, "extractive")
    assert client.get(url, headers=alice.headers).json() == payload
    markdown = client.get(url, params={"format": "md"}, headers=alice.headers)
    assert markdown.status_code == 200
    assert "send the build to QA" in markdown.text
    assert client.post(url, headers=alice.headers).status_code == 202
    assert app.state.backend.summary_requests == [meeting["id"]]
    api.share(alice, meeting["id"], bob.email, role="viewer")
    assert client.post(url, headers=bob.headers).status_code == 403
    assert client.get(url, headers=bob.headers).status_code == 200
