"""An upload job reading its file as a stream, with the real recorder, database and event log;
the models are stand-ins at the edge (they note what they were given and answer fixed text)."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from core.speech_tracker import SpeechFrames
from core.types import (
    SAMPLE_RATE,
    DiarizationResult,
    Segment,
    SpeakerTurn,
    SummaryResult,
    TranscriptionResult,
    Word,
)
from core.windowing import WindowOptions
from deployments import window_source
from deployments.job_state import JobState, Models
from deployments.pipeline import UploadJob
from persistence import (
    Database,
    create_job,
    create_meeting,
    create_user,
    get_job,
    list_segments,
    save_segments,
    upgrade_database,
)
from rooms.hub import EventLog
from scripts.synth_meeting import ensure_meeting
from tests.unit.deployments.test_pipeline_languages import no_ray_metrics  # noqa: F401

OPTIONS = WindowOptions(target_s=30.0, min_s=10.0, max_s=45.0)


@pytest.fixture(autouse=True)
def stage_times(monkeypatch: pytest.MonkeyPatch) -> dict[str, float]:
    """The decode and VAD stage times the source reports (Ray metrics stay out of unit tests)."""
    recorded: dict[str, float] = {}
    monkeypatch.setattr(
        window_source, "record_stage_latency", lambda stage, s: recorded.__setitem__(stage, s)
    )
    return recorded


class CountingModels:
    """One word per window, after ``delay_s``; raises from call ``fail_after + 1`` on."""

    def __init__(self, fail_after: int | None = None, delay_s: float = 0.01) -> None:
        self.fail_after = fail_after
        self.delay_s = delay_s
        self.windows: list[float] = []  # each call's audio length
        # (model, audio length, length the VAD frames sent with it were scored from)
        self.speech: list[tuple[str, int, int | None]] = []
        self.active = 0
        self.most_active = 0

    async def transcribe(
        self, audio: np.ndarray, language: str | None, task: str, speech: SpeechFrames | None
    ) -> Any:
        self.speech.append(("transcribe", audio.size, speech and speech.samples))
        self.active += 1
        self.most_active = max(self.most_active, self.active)
        try:
            await asyncio.sleep(self.delay_s)
            self.windows.append(len(audio) / SAMPLE_RATE)
            if self.fail_after is not None and len(self.windows) > self.fail_after:
                raise RuntimeError("model crashed")
            return TranscriptionResult([Word("hello", 0.5, 0.9)], "hello", "en", 1.0)
        finally:
            self.active -= 1

    async def diarize(self, audio: np.ndarray, speech: SpeechFrames | None) -> DiarizationResult:
        self.speech.append(("diarize", audio.size, speech and speech.samples))
        return DiarizationResult([SpeakerTurn(0.0, 2.0, "A")], {"A": [1.0, 0.0]}, "test")

    async def summarize(self, segments: list[Segment], language: str | None) -> SummaryResult:
        return SummaryResult(summary="ok")

    async def detect(self, audio: np.ndarray) -> tuple[str, float]:
        return "en", 0.99

    def models(self) -> Models:
        return Models(self.transcribe, self.diarize, self.summarize, self.detect, lambda c: False)


@pytest.fixture
def meeting(tmp_path: Path) -> tuple[Database, str, str]:
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    upgrade_database(url)
    db = Database(url)
    with db.session() as session:
        user = create_user(session, email="a@example.com", name="A", password_hash="h")
        meeting_id = create_meeting(session, owner_id=user.id, title="Standup").id
        job_id = create_job(session, meeting_id).id
    return db, meeting_id, job_id


def write_wav(path: Path, samples: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes((np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def quiet(seconds: float, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 3e-4, int(seconds * SAMPLE_RATE))


async def run_job(
    meeting: tuple[Database, str, str], path: Path, fake: CountingModels, concurrency: int = 2
) -> tuple[UploadJob, list[dict[str, Any]]]:
    db, meeting_id, job_id = meeting
    hub = EventLog(db.url)
    state = JobState(job_id, meeting_id)
    job = UploadJob(state, fake.models(), hub, db, OPTIONS, concurrency, 3600.0)
    await job.run(str(path))
    return job, await hub.replay(meeting_id, 0)


def statuses(events: list[dict[str, Any]], stage: str) -> list[dict[str, Any]]:
    return [
        e["details"] for e in events if e["type"] == "status" and e["details"]["stage"] == stage
    ]


async def test_leading_silence_is_published_empty_and_totals_arrive_with_the_end(
    meeting: tuple[Database, str, str], tmp_path: Path, stage_times: dict[str, float]
) -> None:
    speech = ensure_meeting("planning2", install=True).load_audio()
    path = write_wav(tmp_path / "late.wav", np.concatenate([quiet(100), speech]))
    fake = CountingModels()
    job, events = await run_job(meeting, path, fake)
    assert events[-1]["status"] == "completed"
    windows = job.state.windows
    silent = [w for w in windows if w.end <= 100.0]
    assert silent and len(fake.windows) == len(windows) - len(silent)  # models skip silence
    # Both models got each window's VAD frames, scored from that window's audio.
    models = sorted(model for model, _, _ in fake.speech)
    assert models == sorted(["diarize", "transcribe"] * len(fake.windows))
    assert all(samples == sent for _, samples, sent in fake.speech)
    aligned = statuses(events, "alignment")
    assert [a["window"] for a in aligned] == list(range(1, len(windows) + 1))
    assert aligned[-1]["windows"] == len(windows)
    duration = (100 * SAMPLE_RATE + speech.size) / SAMPLE_RATE
    assert aligned[-1]["duration"] == pytest.approx(duration, abs=1e-3)
    progress = [a["progress"] for a in aligned]
    assert progress == sorted(progress) and progress[-1] == pytest.approx(0.9)
    transcripts = [e["segment"] for e in events if e["type"] == "transcript"]
    assert transcripts[0]["window"] == len(silent)
    assert stage_times.keys() == {"decode", "windowing"}
    db, _, job_id = meeting
    with db.session() as session:
        row = get_job(session, job_id)
        assert row is not None and (row.windows_total, row.windows_done) == (len(windows),) * 2


async def test_a_file_without_speech_fails_and_keeps_the_old_transcript(
    meeting: tuple[Database, str, str], tmp_path: Path
) -> None:
    db, meeting_id, _ = meeting
    old = Segment("w0-0", "SPEAKER_00", "kept", 0.0, 1.0, 0)
    with db.session() as session:
        save_segments(session, meeting_id, [old])
    fake = CountingModels()
    job, events = await run_job(meeting, write_wav(tmp_path / "quiet.wav", quiet(130)), fake)
    assert events[-1]["status"] == "failed"
    assert [e["code"] for e in events if e["type"] == "error"] == ["no_speech"]
    assert fake.windows == [] and len(job.state.windows) == 4  # the file was read to its end
    assert [e for e in events if e["type"] == "transcript"] == []
    with db.session() as session:
        assert [s.text for s in list_segments(session, meeting_id)] == ["kept"]


async def test_a_failed_window_stops_decoding_and_bounds_the_windows_in_flight(
    meeting: tuple[Database, str, str], tmp_path: Path
) -> None:
    speech = ensure_meeting("standup3", install=True).load_audio()
    path = write_wav(tmp_path / "long.wav", np.tile(speech, 6))  # ~13 minutes, ~26 windows
    fake = CountingModels(fail_after=2)
    job, events = await run_job(meeting, path, fake, concurrency=2)
    assert events[-1]["status"] == "failed"
    assert fake.most_active <= 2
    assert len(job.state.windows) <= 6  # stopped long before the end of the file


async def test_windows_run_at_most_the_concurrency_bound(
    meeting: tuple[Database, str, str], tmp_path: Path
) -> None:
    speech = ensure_meeting("standup3", install=True).load_audio()
    fake = CountingModels(delay_s=1.0)  # slower than decoding the next window
    job, events = await run_job(meeting, write_wav(tmp_path / "s.wav", np.tile(speech, 2)), fake, 3)
    assert events[-1]["status"] == "completed"
    assert 1 < fake.most_active <= 3
    assert len(fake.windows) == len(job.state.windows) >= 4
