"""The official ``openai`` Python client against the real cluster (CPU profile, real models).

Every ``response_format``, ``stream=true``, a bad file, a revoked key, and API keys on both
WebSockets. Each transcription is a real meeting of the key's owner, so its answer is checked
against that meeting's own exports.
"""

from __future__ import annotations

import asyncio
import json
import string
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import websockets

from benchmarks.scoring import word_error_rate
from scripts.synth_meeting import MeetingAudio, ensure_meeting
from tests.integration.client import ApiUser, register
from tests.integration.conftest import RunningPlatform
from tests.integration.test_languages import MAX_ITALIAN_WER, ideas_found

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def user(platform: RunningPlatform) -> ApiUser:
    return register(platform.base_url, platform.ws_url)


def create_key(user: ApiUser, name: str) -> dict[str, Any]:
    r = httpx.post(f"{user.base_url}/api/keys", json={"name": name}, headers=user.headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


@pytest.fixture(scope="module")
def api_key(user: ApiUser) -> str:
    return str(create_key(user, "integration")["key"])


def make_client(platform: RunningPlatform, key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=f"{platform.base_url}/v1", api_key=key, max_retries=0, timeout=600
    )


@pytest.fixture(scope="module")
def client(platform: RunningPlatform, api_key: str) -> Iterator[openai.OpenAI]:
    with make_client(platform, api_key) as c:
        yield c


@pytest.fixture(scope="module")
def short2() -> MeetingAudio:
    return ensure_meeting("short2", install=True)


def transcribe(client: openai.OpenAI, path: Path, **options: Any) -> tuple[Any, str]:
    """The parsed answer and the meeting it became (``X-Meeting-Id``)."""
    with path.open("rb") as f:
        raw = client.audio.transcriptions.with_raw_response.create(
            model="whisper-1", file=("meeting.wav", f, "audio/wav"), **options
        )
    return raw.parse(), raw.headers["x-meeting-id"]


def export(user: ApiUser, meeting_id: str, fmt: str) -> str:
    r = user.get(f"/api/meetings/{meeting_id}/transcript", format=fmt)
    assert r.status_code == 200, r.text
    return r.text


@pytest.fixture(scope="module")
def json_answer(client: openai.OpenAI, short2: MeetingAudio) -> tuple[Any, str]:
    return transcribe(client, short2.audio_path)


def test_models_list_the_profile_model_and_openai_aliases(client: openai.OpenAI) -> None:
    ids = [model.id for model in client.models.list()]
    assert ids[0] == "tiny.en"
    assert {"whisper-1", "gpt-4o-transcribe-diarize"} <= set(ids)
    assert client.models.retrieve("tiny.en").owned_by == "meetingserve"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_json_is_the_meeting_transcript_of_the_keys_owner(
    json_answer: tuple[Any, str], user: ApiUser, short2: MeetingAudio
) -> None:
    answer, meeting_id = json_answer
    assert isinstance(answer, openai.types.audio.Transcription)
    assert word_error_rate(short2.transcript(), answer.text) < 0.35, answer.text
    stored = json.loads(export(user, meeting_id, "json"))["segments"]
    assert answer.text == " ".join(s["text"] for s in stored)
    assert answer.usage is not None and answer.usage.type == "duration"
    assert answer.usage.seconds == pytest.approx(short2.duration, abs=0.1)
    meetings = {m["id"]: m for m in user.get("/api/meetings").json()}
    assert meetings[meeting_id]["role"] == "owner"
    assert meetings[meeting_id]["title"] == "meeting.wav"


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_are_the_meeting_exports(
    fmt: str, client: openai.OpenAI, user: ApiUser, short2: MeetingAudio
) -> None:
    answer, meeting_id = transcribe(client, short2.audio_path, response_format=fmt)
    assert isinstance(answer, str)
    assert answer == export(user, meeting_id, fmt)
    first_cue = "1\n00:00:0" if fmt == "srt" else "WEBVTT\n\nw0-0\n00:00:0"
    assert answer.startswith(first_cue), answer[:40]


def test_text_is_the_plain_transcript(
    client: openai.OpenAI, short2: MeetingAudio, json_answer: tuple[Any, str]
) -> None:
    answer, _ = transcribe(client, short2.audio_path, response_format="text")
    assert isinstance(answer, str)
    assert answer.strip() == json_answer[0].text  # the same audio, the same greedy decode


def test_verbose_json_has_segments_and_words(
    client: openai.OpenAI, user: ApiUser, short2: MeetingAudio
) -> None:
    answer, meeting_id = transcribe(
        client,
        short2.audio_path,
        response_format="verbose_json",
        timestamp_granularities=["word", "segment"],
    )
    assert isinstance(answer, openai.types.audio.TranscriptionVerbose)
    stored = json.loads(export(user, meeting_id, "json"))["segments"]
    assert [s.text for s in answer.segments or []] == [s["text"] for s in stored]
    assert [s.id for s in answer.segments or []] == list(range(len(stored)))
    stored_words = [(w["word"], w["start"], w["end"]) for s in stored for w in s["words"]]
    assert [(w.word, w.start, w.end) for w in answer.words or []] == stored_words
    assert answer.language == "en"
    assert answer.duration == pytest.approx(short2.duration, abs=0.1)


def test_diarized_json_labels_speakers_like_openai(
    client: openai.OpenAI, user: ApiUser, short2: MeetingAudio
) -> None:
    answer, meeting_id = transcribe(client, short2.audio_path, response_format="diarized_json")
    assert isinstance(answer, openai.types.audio.TranscriptionDiarized)
    stored = json.loads(export(user, meeting_id, "json"))["segments"]
    assert [s.id for s in answer.segments] == [s["id"] for s in stored]
    assert {s.type for s in answer.segments} == {"transcript.text.segment"}
    letters: dict[str, str] = {}  # meeting label -> letter, one to one, A first
    for segment, row in zip(answer.segments, stored, strict=True):
        assert letters.setdefault(row["speaker"], segment.speaker) == segment.speaker
    assert list(letters.values()) == list(string.ascii_uppercase[: len(letters)])
    assert answer.segments[0].speaker == "A"


def test_stream_sends_deltas_as_windows_complete(client: openai.OpenAI, user: ApiUser) -> None:
    standup = ensure_meeting("standup3", install=True)  # several windows
    received: list[tuple[float, Any]] = []
    with standup.audio_path.open("rb") as f:
        stream = client.audio.transcriptions.create(
            model="whisper-1", file=("standup.wav", f, "audio/wav"), stream=True
        )
        for event in stream:
            received.append((time.monotonic(), event))
    *deltas, (done_at, done) = received
    assert done.type == "transcript.text.done"
    assert {e.type for _, e in deltas} == {"transcript.text.delta"}
    assert "".join(e.delta for _, e in deltas) == done.text
    assert word_error_rate(standup.transcript(), done.text) < 0.35
    # Windows are published one after another: the first lines arrive well before the end.
    assert done_at - deltas[0][0] > 2.0, "all deltas arrived at once"


def test_bad_file_is_an_openai_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(
            model="whisper-1", file=("notes.txt", b"these are not audio bytes", "text/plain")
        )
    assert caught.value.status_code == 400
    body = caught.value.body
    assert isinstance(body, dict)
    assert body["param"] == "file" and body["type"] == "invalid_request_error"


def test_revoked_key_is_an_openai_authentication_error(
    platform: RunningPlatform, user: ApiUser, short2: MeetingAudio
) -> None:
    created = create_key(user, "to revoke")
    with make_client(platform, created["key"]) as client:
        assert client.models.list().data  # works before
        r = httpx.delete(f"{user.base_url}/api/keys/{created['id']}", headers=user.headers)
        assert r.status_code == 204
        with pytest.raises(openai.AuthenticationError):
            client.models.list()
        with pytest.raises(openai.AuthenticationError), short2.audio_path.open("rb") as f:
            client.audio.transcriptions.create(model="whisper-1", file=f)
    listed = {k["id"]: k for k in user.get("/api/keys").json()}
    assert listed[created["id"]]["revoked_at"] is not None
    assert listed[created["id"]]["usage_count"] == 1
    assert "key" not in listed[created["id"]]


def test_api_key_on_both_websockets(
    platform: RunningPlatform, user: ApiUser, api_key: str, json_answer: tuple[Any, str]
) -> None:
    _, meeting_id = json_answer
    room = f"{platform.ws_url}/ws/meeting/{meeting_id}"

    async def run() -> tuple[dict[str, Any], dict[str, Any], int | None]:
        async with websockets.connect(room, subprotocols=["bearer", api_key]) as ws:  # type: ignore[list-item]
            connected = json.loads(await ws.recv())
        live_meeting = user.create_meeting("Live by key")
        audio = f"{platform.ws_url}/ws/meeting/{live_meeting}/audio?token={api_key}"
        async with websockets.connect(audio) as ws:
            await ws.send(json.dumps({"type": "start", "sample_rate": 16000}))
            started = json.loads(await ws.recv())
            await ws.send(json.dumps({"type": "stop"}))
            await ws.recv()
        async with websockets.connect(f"{room}?token=msk_0000_bad") as ws:
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            return connected, started, ws.close_code

    connected, started, refused = asyncio.run(run())
    assert connected["type"] == "connected" and connected["meeting_id"] == meeting_id
    assert started["type"] == "started" and started["session_id"]
    assert refused == 4401


def test_italian_is_detected_and_translations_answer_in_english(
    client: openai.OpenAI, user: ApiUser
) -> None:
    italian = ensure_meeting("italian2", install=True)
    transcribed, meeting_id = transcribe(client, italian.audio_path, response_format="verbose_json")
    assert transcribed.language == "it"  # whisper-1 without a language detects it
    assert word_error_rate(italian.transcript(), transcribed.text) <= MAX_ITALIAN_WER
    assert user.get(f"/api/meetings/{meeting_id}").json()["spoken_language"] == "it"

    with italian.audio_path.open("rb") as f:
        raw = client.audio.translations.with_raw_response.create(
            model="whisper-1", file=("riunione.wav", f, "audio/wav"), response_format="verbose_json"
        )
    translated = raw.parse()
    assert (translated.task, translated.language) == ("translate", "en")
    assert ideas_found(translated.text) >= 3, translated.text
    # The answer is the meeting's captions, which stay beside its Italian lines.
    captions = export(user, raw.headers["x-meeting-id"], "json")
    assert [s["translation"] for s in json.loads(captions)["segments"]] == [
        s.text for s in translated.segments or []
    ]
