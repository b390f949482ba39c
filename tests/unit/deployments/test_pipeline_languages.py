"""A job's language handling with the real window runner, output, database and event log;
the models are stand-ins at the edge (they record what they were asked and answer fixed text)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.types import (
    SAMPLE_RATE,
    DiarizationResult,
    Segment,
    SpeakerTurn,
    SummaryResult,
    TranscriptionResult,
    Word,
)
from core.windowing import Window
from deployments import job_output, pipeline
from deployments.job_output import JobOutput
from deployments.job_state import JobState, Models
from deployments.pipeline import WindowRunner
from persistence import Database, create_job, create_meeting, create_user, upgrade_database
from persistence.languages import get_language_settings, set_language_settings
from rooms.hub import EventLog
from tests.unit.orchestration.fakes import MetricsLog


@pytest.fixture(autouse=True)
def no_ray_metrics(monkeypatch: pytest.MonkeyPatch) -> None:
    """Metrics are Ray Serve objects; unit tests never start Ray."""
    log = MetricsLog()
    log.install(monkeypatch, pipeline)
    log.install(monkeypatch, job_output)


class FakeModels:
    """Italian speech by two speakers; the translate task answers English."""

    def __init__(self, detected: tuple[str, float] = ("it", 0.97)) -> None:
        self.detected = detected
        self.calls: list[tuple[str | None, str, float]] = []
        self.summary_language: str | None = "unset"

    async def transcribe(
        self, audio: np.ndarray, language: str | None, task: str, _speech: object = None
    ) -> Any:
        seconds = len(audio) / SAMPLE_RATE
        self.calls.append((language, task, round(seconds, 2)))
        if task == "translate":
            return TranscriptionResult([Word("Hello", 0.1, 0.5)], "Hello", "en", seconds)
        words = [Word("Ciao", 0.2, 0.6), Word("Marco", 0.7, 1.0), Word("Grazie", 2.2, 2.6)]
        return TranscriptionResult(words, "Ciao Marco Grazie", language or "en", seconds)

    async def diarize(self, audio: np.ndarray, _speech: object = None) -> DiarizationResult:
        turns = [SpeakerTurn(0.0, 1.2, "A"), SpeakerTurn(2.0, 3.0, "B")]
        return DiarizationResult(turns, {"A": [1.0, 0.0], "B": [0.0, 1.0]})

    async def summarize(self, segments: list[Segment], language: str | None) -> SummaryResult:
        self.summary_language = language
        return SummaryResult(summary="ok", language=language)

    async def detect(self, audio: np.ndarray) -> tuple[str, float]:
        return self.detected

    def models(self) -> Models:
        return Models(self.transcribe, self.diarize, self.summarize, self.detect, lambda c: True)


@pytest.fixture
def meeting(tmp_path: Path) -> tuple[Database, str, str]:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    upgrade_database(url)
    db = Database(url)
    with db.session() as session:
        user = create_user(session, email="a@example.com", name="A", password_hash="h")
        meeting_id = create_meeting(session, owner_id=user.id, title="Riunione").id
        set_language_settings(session, meeting_id, language="auto", translate_to="en")
        job_id = create_job(session, meeting_id).id
    return db, meeting_id, job_id


async def run_one_window(
    meeting: tuple[Database, str, str], fake: FakeModels
) -> tuple[list[Segment], list[dict[str, Any]]]:
    db, meeting_id, job_id = meeting
    hub = EventLog(db.url)
    state, models = JobState(job_id, meeting_id), fake.models()
    output = JobOutput(state, hub, db, models.summarize)
    await output.start(1)
    audio = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    runner = WindowRunner(state, models, output)
    segments = await output.publish_window(await runner.run(audio, Window(0, 0, 3)))
    await output.finish(3.0)
    return segments, await hub.replay(meeting_id, 0)


async def test_auto_detects_then_transcribes_translates_and_summarises_in_it(
    meeting: tuple[Database, str, str],
) -> None:
    fake = FakeModels()
    segments, events = await run_one_window(meeting, fake)
    assert fake.calls[0] == ("it", "transcribe", 3.0)
    assert sorted(c[1] for c in fake.calls[1:]) == ["translate", "translate"]
    assert [(s.text, s.translation) for s in segments] == [
        ("Ciao Marco", "Hello"),
        ("Grazie", "Hello"),
    ]
    statuses = [e for e in events if e["type"] == "status"]
    detected = [e for e in statuses if e["details"].get("language_source") == "detected"]
    assert [(e["details"]["language"], e["details"]["language_probability"]) for e in detected] == [
        ("it", 0.97)
    ]
    assert fake.summary_language == "it"
    db, meeting_id, _ = meeting
    with db.session() as session:
        assert get_language_settings(session, meeting_id).spoken_language == "it"


async def test_english_detection_makes_no_captions(meeting: tuple[Database, str, str]) -> None:
    fake = FakeModels(detected=("en", 0.99))
    segments, _ = await run_one_window(meeting, fake)
    assert [c[1] for c in fake.calls] == ["transcribe"]
    assert all(s.translation is None for s in segments)


async def test_an_unsure_live_guess_is_retried_then_kept_when_the_session_ends(
    meeting: tuple[Database, str, str],
) -> None:
    db, meeting_id, job_id = meeting
    fake = FakeModels(detected=("it", 0.3))
    hub = EventLog(db.url)
    state, models = JobState(job_id, meeting_id), fake.models()
    output = JobOutput(state, hub, db, models.summarize)
    runner = WindowRunner(state, models, output, detection_attempts=3)  # as a live session
    await output.start(None)
    audio = np.zeros(3 * SAMPLE_RATE, dtype=np.float32)
    await output.publish_window(await runner.run(audio, Window(0, 0, 3)))
    assert state.language.detecting, "one unsure guess: the next utterance retries"
    assert fake.calls[0][0] == "it", "meanwhile the window uses the guess"
    await output.finish(3.0)
    events = await hub.replay(meeting_id, 0)
    detected = [
        e["details"]
        for e in events
        if e["type"] == "status" and e["details"].get("language_source") == "detected"
    ]
    assert [(d["language"], d["language_probability"]) for d in detected] == [("it", 0.3)]
    with db.session() as session:
        assert get_language_settings(session, meeting_id).spoken_language == "it"
