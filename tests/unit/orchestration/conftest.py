"""Fixtures for the orchestration suite: a fresh database and meeting, the hub's in-process
event log, and the VAD and metrics replaced at the edge (``fakes.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deployments import job_output, live, pipeline, window_source
from tests.unit.orchestration.fakes import (
    LevelVad,
    Meeting,
    MetricsLog,
    RecordingHub,
    RegionsVad,
    fake_speech_regions,
    migrated_database,
    new_meeting,
)


@pytest.fixture(autouse=True)
def fake_vad(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(window_source, "StreamingVad", LevelVad)
    monkeypatch.setattr(live, "BufferVad", lambda: RegionsVad(fake_speech_regions))


@pytest.fixture(autouse=True)
def metrics(monkeypatch: pytest.MonkeyPatch) -> MetricsLog:
    log = MetricsLog()
    log.install(monkeypatch, pipeline)
    log.install(monkeypatch, job_output)
    return log


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return migrated_database(tmp_path_factory.mktemp("orchestration"))


@pytest.fixture
def meeting(template_db: Path, tmp_path: Path) -> Iterator[Meeting]:
    made = new_meeting(template_db, tmp_path)
    yield made
    made.db.dispose()


@pytest.fixture
def live_meeting(template_db: Path, tmp_path: Path) -> Iterator[Meeting]:
    made = new_meeting(template_db, tmp_path, source="live")
    yield made
    made.db.dispose()


@pytest.fixture
def hub(meeting: Meeting) -> RecordingHub:
    return RecordingHub(meeting.url)


@pytest.fixture
def live_hub(live_meeting: Meeting) -> RecordingHub:
    return RecordingHub(live_meeting.url)
