"""The upload intake's blocking steps run within the replica's thread budget
(``MEETING_INTAKE_THREADS``), however many uploads arrive at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.api.routes import audio
from app.main import create_app
from settings.config import Settings
from tests.unit.api.conftest import Api
from tests.unit.api.test_audio_routes import upload, wav_bytes

UPLOADS = 4


class Overlap:
    """Counts how many calls of a step run at the same time. Each call stays a while, or
    until more than ``allowed`` run, so calls that may overlap do, whatever the timing."""

    def __init__(self, allowed: int) -> None:
        self._changed = threading.Condition()
        self.allowed = allowed
        self.running = 0
        self.most = 0

    def __enter__(self) -> None:
        with self._changed:
            self.running += 1
            self.most = max(self.most, self.running)
            self._changed.notify_all()
            self._changed.wait_for(lambda: self.running > self.allowed, timeout=0.5)

    def __exit__(self, *_: object) -> None:
        with self._changed:
            self.running -= 1


@pytest.mark.parametrize("threads", [1, 2])
def test_concurrent_uploads_probe_within_the_budget(
    threads: int, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    overlap = Overlap(threads)
    check = audio.check_upload_format

    def counted_check(path: Path, settings: Settings) -> None:
        with overlap:
            check(path, settings)

    monkeypatch.setattr(audio, "check_upload_format", counted_check)
    app: FastAPI = create_app(
        settings.model_copy(
            update={"intake_threads": threads, "max_concurrent_jobs_per_user": UPLOADS}
        )
    )
    with TestClient(app) as client:
        api = Api(client)
        account = api.register("intake@example.com")
        meetings = [api.create_meeting(account)["id"] for _ in range(UPLOADS)]
        with ThreadPoolExecutor(UPLOADS) as pool:
            answers = list(
                pool.map(lambda m: upload(client, account, m, wav_bytes()).status_code, meetings)
            )
    assert answers == [202] * UPLOADS
    assert overlap.most == threads
