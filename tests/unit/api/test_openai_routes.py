"""``/v1`` end to end with the official ``openai`` client against real uvicorn and a real
database. The Processor is the edge: ``ScriptedProcessor`` publishes a two-window job through
the real hub and stores its segments, the way ``deployments/pipeline.py`` does."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from app.main import create_app
from app.openai_compat import jobs
from core.types import Segment, Word
from persistence import (
    Database,
    get_user_by_email,
    list_visible_meetings,
    save_segments,
    update_job,
)
from persistence.languages import get_language_settings, record_detected_language
from processor_api.backend import JobRequest, LocalBackend, ServedModel
from rooms.publish import publish_error, publish_segment, publish_status
from settings.config import Settings
from tests.unit.api.test_meeting_language import CPU_ROUTES
from tests.unit.rooms.live_server import LiveServer

JWT_SECRET = "openai-unit-test-secret-0123456789abcdef0123"
PASSWORD = "correct horse battery"
WINDOW_S = 0.5
NO_SPEECH_S = 3.5  # what the scripted Processor decoded of a file without speech

WINDOWS = [
    [
        Segment("w0-0", "SPEAKER_1", "Hello there.", 0.5, 1.5, 0, [Word("Hello", 0.5, 0.9, 0.9)]),
        Segment("w0-1", "SPEAKER_2", "Hi.", 2.0, 2.4, 0, [Word("Hi.", 2.0, 2.4, 1.0)]),
    ],
    [Segment("w1-0", "SPEAKER_1", "Bye.", 31.0, 31.5, 1, [Word("Bye.", 31.0, 31.5, 0.8)])],
]
# An Italian meeting with English captions (``translate_to: "en"``), detected as Italian.
ITALIAN = [
    [Segment("w0-0", "SPEAKER_1", "Ciao a tutti.", 0.5, 1.5, 0, translation="Hello everyone.")],
    [Segment("w1-0", "SPEAKER_2", "Grazie.", 31.0, 31.5, 1, translation="Thank you.")],
]
# The CPU profile's models: English-only tiny.en first, multilingual base second.
CPU_SERVED = [ServedModel("tiny.en", "en"), ServedModel("base", None)]


class ScriptedProcessor(LocalBackend):
    """Runs each submitted job as ``outcome`` says: ``ok``, an error code, or ``orphaned``
    (the Processor died; only the database knows the job failed)."""

    def __init__(self, database_url: str, outcome: str, multilingual: bool = False) -> None:
        if multilingual:
            super().__init__(served=CPU_SERVED, router=CPU_ROUTES)
        else:
            super().__init__(served=[ServedModel("tiny.en", "en")])
        self.db = Database(database_url)
        self.outcome = outcome
        self.tasks: set[asyncio.Task[None]] = set()

    async def submit_job(self, job: JobRequest) -> None:
        await super().submit_job(job)
        task = asyncio.create_task(self.run(job))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def run(self, job: JobRequest) -> None:
        assert self.hub is not None
        hub, meeting = self.hub, job.meeting_id
        await publish_status(hub, meeting, "processing", "upload", "Audio received")
        if self.outcome == "orphaned":
            await asyncio.to_thread(self.write, update_job, job.job_id, "interrupted")
            return
        if self.outcome not in ("ok", "italian"):
            await publish_error(hub, meeting, f"Processing failed: {self.outcome}", self.outcome)
            # The Processor read a file without speech to its end, so it knows the length.
            length = {"duration": NO_SPEECH_S} if self.outcome == "no_speech" else {}
            await publish_status(hub, meeting, "failed", "done", "Processing failed", **length)
            return
        await publish_status(
            hub, meeting, "processing", "transcription", "...", window=0, windows=2, duration=32.0
        )
        windows = WINDOWS
        if self.outcome == "italian":
            windows = ITALIAN
            await asyncio.to_thread(self.write, record_detected_language, meeting, "it", "0.97")
        for n, segments in enumerate(windows, start=1):
            await asyncio.sleep(WINDOW_S)
            await asyncio.to_thread(self.write, save_segments, meeting, segments)
            for segment in segments:
                await publish_segment(hub, meeting, segment)
            await publish_status(
                hub, meeting, "processing", "alignment", "...", window=n, windows=2
            )
        await publish_status(hub, meeting, "completed", "done", "Meeting processing completed!")

    def write(self, fn: Callable[..., object], *args: str) -> None:
        with self.db.session() as session:
            if fn is update_job:
                update_job(session, args[0], status="failed", error="Restarted", error_code=args[1])
            elif fn is record_detected_language:
                record_detected_language(session, args[0], args[1], float(args[2]))
            else:
                fn(session, *args)


Platform = Callable[..., tuple[LiveServer, openai.OpenAI]]


def wav_bytes(seconds: float = 0.5) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(b"\x00\x01" * int(16_000 * seconds))
    return buffer.getvalue()


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Platform]:
    """A server with a registered user and an ``openai`` client holding their new API key."""
    servers: list[LiveServer] = []

    def start(
        outcome: str = "ok", multilingual: bool = False, **overrides: Any
    ) -> tuple[LiveServer, openai.OpenAI]:
        settings = Settings(
            environment="test",
            data_dir=tmp_path / "data",
            database_url=f"sqlite:///{tmp_path / 'v1.db'}",
            jwt_secret=JWT_SECRET,
            **overrides,
        )
        backend = ScriptedProcessor(settings.resolved_database_url, outcome, multilingual)
        server = LiveServer(create_app(settings, backend)).start()
        servers.append(server)
        return server, openai.OpenAI(
            base_url=f"{server.http_url}/v1", api_key=new_key(server), max_retries=0, timeout=30
        )

    yield start
    for server in servers:
        server.stop()


def new_key(server: LiveServer) -> str:
    base, account = server.http_url, {"email": "ada@example.com", "password": PASSWORD}
    httpx.post(f"{base}/api/auth/register", json=account)
    token = httpx.post(f"{base}/api/auth/login", json=account).json()["access_token"]
    r = httpx.post(
        f"{base}/api/keys", json={"name": "t"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def transcribe(client: openai.OpenAI, **options: Any) -> Any:
    return client.audio.transcriptions.create(
        model="whisper-1", file=("talk.wav", wav_bytes(), "audio/wav"), **options
    )


def test_json_answers_when_the_last_window_is_aligned_as_a_meeting_of_the_key_owner(
    platform: Platform,
) -> None:
    server, client = platform()
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1", file=("talk.wav", wav_bytes(), "audio/wav"), language="en"
    )
    assert raw.parse().text == "Hello there. Hi. Bye."
    meeting_id = raw.headers["x-meeting-id"]
    [job] = server.app.state.backend.submitted
    assert job.meeting_id == meeting_id
    assert Path(job.audio_path).read_bytes() == wav_bytes()
    assert Path(job.audio_path).parent.name == meeting_id
    db: Database = server.app.state.db
    with db.session() as session:
        user = get_user_by_email(session, "ada@example.com")
        assert user is not None
        [(meeting, role)] = list_visible_meetings(session, user.id)
        assert (meeting.id, meeting.title, role) == (meeting_id, "talk.wav", "owner")


def test_diarized_json_through_the_client(platform: Platform) -> None:
    _, client = platform()
    answer = transcribe(client, response_format="diarized_json")
    assert [(s.speaker, s.text) for s in answer.segments] == [
        ("A", "Hello there."),
        ("B", "Hi."),
        ("A", "Bye."),
    ]
    assert answer.duration == 32.0


def test_stream_sends_a_delta_per_segment_as_each_window_completes(platform: Platform) -> None:
    _, client = platform()
    arrivals = [(time.monotonic(), e) for e in transcribe(client, stream=True)]
    events = [e for _, e in arrivals]
    assert [e.type for e in events] == ["transcript.text.delta"] * 3 + ["transcript.text.done"]
    assert [e.delta for e in events[:3]] == ["Hello there.", " Hi.", " Bye."]
    assert events[-1].text == "Hello there. Hi. Bye."
    first_window_at, second_window_at = arrivals[1][0], arrivals[2][0]
    assert second_window_at - first_window_at > WINDOW_S * 0.6  # not all at the end


def test_diarized_stream_adds_segment_events(platform: Platform) -> None:
    _, client = platform()
    events = list(transcribe(client, stream=True, response_format="diarized_json"))
    segments = [e for e in events if e.type == "transcript.text.segment"]
    assert [(s.id, s.speaker) for s in segments] == [("w0-0", "A"), ("w0-1", "B"), ("w1-0", "A")]
    deltas = [e for e in events if e.type == "transcript.text.delta"]
    assert [d.segment_id for d in deltas] == ["w0-0", "w0-1", "w1-0"]


def test_undecodable_audio_is_a_bad_request_also_mid_stream(platform: Platform) -> None:
    _, client = platform(outcome="unsupported_audio")
    with pytest.raises(openai.BadRequestError) as caught:
        transcribe(client)
    assert caught.value.body == {
        "message": "Processing failed: unsupported_audio",
        "type": "invalid_request_error",
        "param": "file",
        "code": "unsupported_audio",
    }
    with pytest.raises(openai.APIError, match="unsupported_audio"):
        list(transcribe(client, stream=True))


def test_audio_without_speech_is_an_empty_transcript(platform: Platform) -> None:
    _, client = platform(outcome="no_speech")
    assert transcribe(client).text == ""
    verbose = transcribe(client, response_format="verbose_json")
    assert (verbose.text, verbose.duration) == ("", NO_SPEECH_S)
    assert [e.type for e in transcribe(client, stream=True)] == ["transcript.text.done"]


def test_a_job_failed_behind_the_hubs_back_ends_the_wait(
    platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "IDLE_CHECK_S", 0.2)
    _, client = platform(outcome="orphaned")
    with pytest.raises(openai.InternalServerError) as caught:
        transcribe(client)
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "interrupted"


def test_a_bad_file_is_refused_before_any_meeting_exists(platform: Platform) -> None:
    server, client = platform()
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(
            model="whisper-1", file=("notes.txt", b"not audio at all", "text/plain")
        )
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "file"
    assert server.app.state.backend.submitted == []
    staged = server.app.state.settings.uploads_dir / "v1-incoming"
    assert not staged.exists() or list(staged.iterdir()) == []


def test_too_large_is_413_in_the_envelope(platform: Platform) -> None:
    _, client = platform(max_upload_bytes=1000)
    with pytest.raises(openai.APIStatusError) as caught:
        transcribe(client)
    assert caught.value.status_code == 413
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "file_too_large"


def test_unknown_model_and_wrong_language_name_the_param(platform: Platform) -> None:
    server, client = platform()
    with pytest.raises(openai.NotFoundError):
        client.audio.transcriptions.create(
            model="gpt-9", file=("talk.wav", wav_bytes(), "audio/wav")
        )
    with pytest.raises(openai.BadRequestError) as caught:
        transcribe(client, language="de")
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "language"
    assert server.app.state.backend.submitted == []


def test_bad_keys_and_rate_limits_answer_like_openai(platform: Platform) -> None:
    server, client = platform(api_key_rate_limit=2)
    assert client.models.list().data[0].id == "tiny.en"
    with pytest.raises(openai.AuthenticationError):
        client.with_options(api_key="msk_000000000000_" + "x" * 43).models.list()
    client.models.list()
    with pytest.raises(openai.RateLimitError) as caught:
        client.models.list()
    assert int(caught.value.response.headers["retry-after"]) >= 1
    r = httpx.get(f"{server.http_url}/v1/no/such/thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_url"


def meeting_languages(server: LiveServer, meeting_id: str) -> tuple[str | None, str | None]:
    db: Database = server.app.state.db
    with db.session() as session:
        settings = get_language_settings(session, meeting_id)
        return settings.language, settings.translate_to


def test_translations_answer_the_english_captions(platform: Platform) -> None:
    server, client = platform(outcome="italian", multilingual=True, max_concurrent_jobs_per_user=9)
    long_file = ("riunione.wav", wav_bytes(3.0), "audio/wav")  # past the 64 KiB body default
    raw = client.audio.translations.with_raw_response.create(model="whisper-1", file=long_file)
    assert raw.parse().text == "Hello everyone. Thank you."
    assert meeting_languages(server, raw.headers["x-meeting-id"]) == ("auto", "en")
    verbose = client.audio.translations.create(
        model="whisper-1", file=long_file, response_format="verbose_json"
    )
    assert (verbose.task, verbose.language) == ("translate", "en")
    assert [s.text for s in verbose.segments or []] == ["Hello everyone.", "Thank you."]
    srt = client.audio.translations.create(model="whisper-1", file=long_file, response_format="srt")
    assert "SPEAKER_1: Hello everyone." in str(srt)
    stream = client.audio.translations.with_raw_response.create(
        model="whisper-1", file=long_file, extra_body={"stream": "true"}
    )
    assert '"delta":"Hello everyone."' in stream.text and '"text":"Hello everyone. Thank you."' in (
        stream.text
    )


def test_translations_need_a_multilingual_model(platform: Platform) -> None:
    server, client = platform()
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.translations.create(
            model="whisper-1", file=("a.wav", wav_bytes(), "audio/wav")
        )
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "unsupported_language"
    assert server.app.state.backend.submitted == []


def test_openai_names_without_a_language_detect_it(platform: Platform) -> None:
    server, client = platform(outcome="italian", multilingual=True)
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-1",
        file=("riunione.wav", wav_bytes(), "audio/wav"),
        response_format="verbose_json",
    )
    assert raw.parse().language == "it"  # the detected one, not the default model's "en"
    assert raw.parse().text == "Ciao a tutti. Grazie."
    assert meeting_languages(server, raw.headers["x-meeting-id"]) == ("auto", None)
    # Naming the English-only model keeps the profile's default language: no detection.
    named = client.audio.transcriptions.with_raw_response.create(
        model="tiny.en", file=("talk.wav", wav_bytes(), "audio/wav")
    )
    assert meeting_languages(server, named.headers["x-meeting-id"]) == (None, None)
