"""Voice profiles: enrol from a meeting speaker or a sample, list, rename, delete; owner only."""

from __future__ import annotations

import io
import pickle
import wave
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from core.types import Segment
from persistence import Database, save_segments
from persistence.models import MeetingSpeaker, VoiceProfile
from persistence.speakers import SpeakerCentroid, save_profile_names, save_speaker_centroids
from processor_api.voices import VoiceEmbedding, VoiceRefusal, VoiceReply, VoiceSample
from settings.config import Settings
from tests.unit.api.conftest import Account, Api


@pytest.fixture
def meeting(api: Api, alice: Account, db: Database) -> str:
    meeting_id = str(api.create_meeting(alice)["id"])
    with db.session() as s:
        save_segments(
            s,
            meeting_id,
            [
                Segment("w0-0", "SPEAKER_00", "Hello.", 0.0, 4.0, 0),
                Segment("w0-1", "SPEAKER_01", "Hi.", 4.5, 5.0, 0),
            ],
        )
        save_speaker_centroids(
            s,
            meeting_id,
            "embedded:ge2e",
            [
                SpeakerCentroid("SPEAKER_00", [1.0, 0.0], 4.0),
                SpeakerCentroid("SPEAKER_01", [0.0, 1.0], 1.0),
            ],
        )
    return meeting_id


def enrol(client: TestClient, account: Account, meeting: str, speaker: str, name: str) -> Any:
    return client.post(
        "/api/voice-profiles",
        json={"name": name, "meeting_id": meeting, "speaker": speaker},
        headers=account.headers,
    )


def test_enrol_list_rename_delete(
    client: TestClient, alice: Account, bob: Account, meeting: str, db: Database
) -> None:
    r = enrol(client, alice, meeting, "SPEAKER_00", "Dana")
    assert r.status_code == 201, r.text
    profile = r.json()
    assert profile["backend"] == "embedded:ge2e"
    assert profile["source"] == "meeting" and profile["stores_audio"] is False
    assert "embedding" not in profile
    assert [p["name"] for p in client.get("/api/voice-profiles", headers=alice.headers).json()] == [
        "Dana"
    ]
    assert client.get("/api/voice-profiles", headers=bob.headers).json() == []
    path = f"/api/voice-profiles/{profile['id']}"
    assert client.patch(path, json={"name": "Eve"}, headers=bob.headers).status_code == 404
    assert client.delete(path, headers=bob.headers).status_code == 404
    r = client.patch(path, json={"name": "Dana Smith"}, headers=alice.headers)
    assert r.status_code == 200 and r.json()["name"] == "Dana Smith"
    with db.session() as s:
        stored = s.scalars(select(VoiceProfile)).one()
        assert stored.embedding == [1.0, 0.0]
        save_profile_names(s, meeting, {"SPEAKER_00": (stored.id, "Dana Smith", 0.93)})
    assert client.delete(path, headers=alice.headers).status_code == 204
    with db.session() as s:
        assert s.scalars(select(VoiceProfile)).all() == []  # the embedding is gone
        row = s.scalars(select(MeetingSpeaker).where(MeetingSpeaker.label == "SPEAKER_00")).one()
        assert (row.name, row.profile_id) == ("Dana Smith", None)


def test_enrol_from_merged_speaker_pools_both_centroids(
    client: TestClient, alice: Account, meeting: str, db: Database
) -> None:
    r = client.post(
        f"/api/meetings/{meeting}/speakers/merge",
        json={"from": "SPEAKER_01", "into": "SPEAKER_00"},
        headers=alice.headers,
    )
    assert r.status_code == 200
    assert enrol(client, alice, meeting, "SPEAKER_01", "Dana").status_code == 201
    with db.session() as s:
        assert s.scalars(select(VoiceProfile.embedding)).one() == pytest.approx([0.8, 0.2])


def test_enrol_needs_edit_access_and_a_stored_voice(
    client: TestClient, api: Api, alice: Account, bob: Account, meeting: str
) -> None:
    assert enrol(client, bob, meeting, "SPEAKER_00", "Dana").status_code == 404
    api.share(alice, meeting, bob.email, "viewer")
    assert enrol(client, bob, meeting, "SPEAKER_00", "Dana").status_code == 403
    assert enrol(client, alice, meeting, "SPEAKER_07", "Dana").status_code == 404
    assert enrol(client, alice, meeting, "SPEAKER_00", "").status_code == 422
    assert client.get("/api/voice-profiles").status_code == 401


def wav_bytes(seconds: float) -> bytes:
    t = np.arange(int(16_000 * seconds)) / 16_000
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def test_sample_enrolment_uses_the_backend_and_keeps_no_audio(
    client: TestClient,
    app: FastAPI,
    alice: Account,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> None:
    seen: list[int] = []

    async def embed_voice(sample: VoiceSample) -> VoiceReply:
        seen.append(sample.audio.size)
        return VoiceEmbedding("embedded:ge2e", [0.6, 0.8], 2.5)

    sample = {"file": ("dana.wav", wav_bytes(3.0), "audio/wav")}
    # The model-free backend has no diarizer: a clear 503, nothing stored.
    r = client.post("/api/voice-profiles/sample?name=Dana", files=sample, headers=alice.headers)
    assert r.status_code == 503
    monkeypatch.setattr(app.state.backend, "embed_voice", embed_voice)
    r = client.post("/api/voice-profiles/sample?name=Dana", files=sample, headers=alice.headers)
    assert r.status_code == 201, r.text
    assert r.json()["source"] == "sample" and r.json()["stores_audio"] is False
    assert seen == [48_000]
    bad = {"file": ("x.wav", b"not audio at all", "audio/wav")}
    r = client.post("/api/voice-profiles/sample?name=X", files=bad, headers=alice.headers)
    assert r.status_code == 400
    r = client.post("/api/voice-profiles/sample?name=", files=sample, headers=alice.headers)
    assert r.status_code == 422
    big = {"file": ("big.wav", wav_bytes(330.0), "audio/wav")}  # over 10 MB
    r = client.post("/api/voice-profiles/sample?name=X", files=big, headers=alice.headers)
    assert r.status_code == 413
    long = {"file": ("long.wav", wav_bytes(121.0), "audio/wav")}
    r = client.post("/api/voice-profiles/sample?name=X", files=long, headers=alice.headers)
    assert r.status_code == 413
    assert list(settings.data_dir.glob("voice-sample-*")) == []  # no sample audio is kept


def test_a_sample_without_speech_is_refused_with_the_backends_message(
    client: TestClient, app: FastAPI, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def embed_voice(_sample: VoiceSample) -> VoiceReply:
        return VoiceRefusal("no_speech", "No speech was found in the sample")

    monkeypatch.setattr(app.state.backend, "embed_voice", embed_voice)
    sample = {"file": ("quiet.wav", wav_bytes(3.0), "audio/wav")}
    r = client.post("/api/voice-profiles/sample?name=Q", files=sample, headers=alice.headers)
    assert (r.status_code, r.json()["detail"]) == (422, "No speech was found in the sample")
    assert client.get("/api/voice-profiles", headers=alice.headers).json() == []


def test_voice_replies_cross_ray_by_pickling_unchanged() -> None:
    sample = VoiceSample(np.linspace(-1, 1, 160, dtype=np.float32))
    back = pickle.loads(pickle.dumps(sample))  # noqa: S301 (our own bytes)
    assert back.audio.dtype == np.float32 and np.array_equal(back.audio, sample.audio)
    for reply in (
        VoiceEmbedding("embedded:ge2e", [0.6, 0.8], 2.5),
        VoiceRefusal("no_speech", "No speech was found in the sample"),
    ):
        assert pickle.loads(pickle.dumps(reply)) == reply  # noqa: S301
