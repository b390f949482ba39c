"""The CLI as a process against a real uvicorn server running the web app (no Ray): output,
exit codes, and that the token never appears. Processing itself is tested on the cluster."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from app.main import create_app
from core.types import Segment, Word
from persistence import Database, save_segments
from processor_api.backend import LocalBackend
from settings.config import Settings
from tests.unit.api.test_meeting_language import CPU_ROUTES
from tests.unit.rooms.live_server import LiveServer

PASSWORD = "correct horse battery"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'cli.db'}",
        jwt_secret="cli-unit-test-secret-0123456789abcdef0123456789",
        login_rate_limit=1000,
    )
    app = create_app(settings, LocalBackend(router=CPU_ROUTES))
    app.state.requests_seen = []

    @app.middleware("http")
    async def record(request: Request, call_next: Any) -> Any:
        app.state.requests_seen.append(f"{request.method} {request.url.path}")
        return await call_next(request)

    live = LiveServer(app).start()
    yield live
    live.stop()


@pytest.fixture
def token(server: LiveServer) -> str:
    with TestClient(server.app) as client:
        body = {"email": "cli@example.com", "password": PASSWORD}
        assert client.post("/api/auth/register", json=body).status_code == 201
        return str(client.post("/api/auth/login", json=body).json()["access_token"])


def cli(
    args: list[str], env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "meetingserve_cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def env(server: LiveServer, tmp_path: Path) -> dict[str, str]:
    import os

    base = {k: v for k, v in os.environ.items() if not k.startswith("MEETINGSERVE_")}
    return base | {
        "MEETINGSERVE_URL": server.http_url,
        "MEETINGSERVE_CONFIG": str(tmp_path / "cfg" / "config.json"),
    }


def test_login_then_commands_use_the_stored_token(env: dict[str, str], token: str) -> None:
    login = cli(["login", "-e", "cli@example.com", "--password-stdin"], env, PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    assert "Logged in to" in login.stderr and login.stdout == ""
    stored = json.loads(Path(env["MEETINGSERVE_CONFIG"]).read_text())["token"]
    assert stored not in login.stderr
    assert cli(["whoami"], env).stdout.strip() == "cli@example.com"
    assert cli(["meetings", "--json"], env).stdout.strip() == "[]"


def test_upload_without_watch_prints_the_meeting_id(
    env: dict[str, str], token: str, server: LiveServer, tmp_path: Path
) -> None:
    audio = tmp_path / "a.wav"
    write_tone(audio)
    result = cli(["upload", str(audio), "--title", "Tone"], env | {"MEETINGSERVE_TOKEN": token})
    assert result.returncode == 0, result.stderr
    meeting_id = result.stdout.strip()
    backend: LocalBackend = server.app.state.backend
    assert [j.meeting_id for j in backend.submitted] == [meeting_id]
    listed = cli(["meetings", "--json"], env | {"MEETINGSERVE_TOKEN": token})
    assert [(m["id"], m["title"]) for m in json.loads(listed.stdout)] == [(meeting_id, "Tone")]
    assert token not in result.stdout + result.stderr


def test_upload_languages_and_replace(
    env: dict[str, str], token: str, server: LiveServer, tmp_path: Path
) -> None:
    authed = env | {"MEETINGSERVE_TOKEN": token}
    audio = tmp_path / "a.wav"
    write_tone(audio)
    refused = cli(["upload", str(audio), "--language", "zz"], authed)
    assert refused.returncode == 6 and "not a language Whisper knows" in refused.stderr
    assert json.loads(cli(["meetings", "--json"], authed).stdout) == []  # nothing left behind

    done = cli(["upload", str(audio), "-l", "it", "--translate-to", "en"], authed)
    assert done.returncode == 0, done.stderr
    meeting = meeting_json(server, token, done.stdout.strip())
    assert (meeting["language"], meeting["translate_to"]) == ("it", "en")

    finished = new_meeting(server, token)
    with server.app.state.db.session() as s:
        save_segments(s, finished, [segment()])
    server.app.state.requests_seen.clear()
    again = cli(["upload", str(audio), "--meeting", finished], authed)
    assert again.returncode == 6 and "pass --replace to record again" in again.stderr
    assert not [r for r in server.app.state.requests_seen if r.startswith("POST")]  # no bytes
    replaced = cli(["upload", str(audio), "--meeting", finished, "--replace", "-l", "auto"], authed)
    assert replaced.returncode == 0, replaced.stderr
    backend: LocalBackend = server.app.state.backend
    assert [j.meeting_id for j in backend.submitted][-1] == finished
    assert meeting_json(server, token, finished)["language"] == "auto"


def new_meeting(server: LiveServer, token: str) -> str:
    with TestClient(server.app) as client:
        r = client.post(
            "/api/meetings", json={"title": "T"}, headers={"Authorization": f"Bearer {token}"}
        )
        return str(r.json()["id"])


def meeting_json(server: LiveServer, token: str, meeting_id: str) -> dict[str, object]:
    with TestClient(server.app) as client:
        r = client.get(f"/api/meetings/{meeting_id}", headers={"Authorization": f"Bearer {token}"})
        return dict(r.json())


def test_export_and_exit_codes(env: dict[str, str], token: str, server: LiveServer) -> None:
    authed = env | {"MEETINGSERVE_TOKEN": token}
    meeting_id = new_meeting(server, token)
    db: Database = server.app.state.db
    with db.session() as s:
        save_segments(s, meeting_id, [segment()])
    srt = cli(["export", meeting_id, "--format", "srt"], authed)
    assert (srt.returncode, srt.stdout) == (0, "1\n00:00:01,000 --> 00:00:02,500\nA: Hi there\n")
    assert cli(["export", "missing"], authed).returncode == 4
    assert cli(["export", "--", "-missing"], authed).returncode == 4  # an id that looks like a flag
    assert cli(["summary", meeting_id], authed).returncode == 4  # no summary yet
    assert cli(["meetings"], env | {"MEETINGSERVE_TOKEN": "bad"}).returncode == 3
    assert cli(["meetings"], env).returncode == 3  # not logged in
    assert cli(["export", meeting_id, "--format", "doc"], authed).returncode == 2
    assert cli(["live"], authed).returncode == 2  # neither FILE nor --mic


def segment() -> Segment:
    words = [Word("Hi", 1.0, 1.5, 0.9), Word("there", 1.6, 2.5, 0.9)]
    return Segment(
        id="w0-0", speaker="A", text="Hi there", start=1.0, end=2.5, window=0, words=words
    )


def write_tone(path: Path) -> None:
    import wave

    import numpy as np

    t = np.arange(16_000) / 16_000
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16_000)
        f.writeframes((np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes())


def test_webhooks_commands(env: dict[str, str], token: str) -> None:
    authed = env | {"MEETINGSERVE_TOKEN": token}
    added = cli(["webhooks", "add", "https://93.184.216.34/hook", "--event", "completed"], authed)
    assert added.returncode == 0, added.stderr
    hook = json.loads(added.stdout)
    assert hook["secret"].startswith("whsec_")
    listed = json.loads(cli(["webhooks", "list", "--json"], authed).stdout)
    assert [(h["id"], h["events"]) for h in listed] == [(hook["id"], ["completed"])]
    assert hook["secret"] not in json.dumps(listed)
    log = cli(["webhooks", "deliveries", hook["id"], "--json"], authed)
    assert (log.returncode, json.loads(log.stdout)) == (0, [])
    refused = cli(["webhooks", "add", "http://127.0.0.1:9/x"], authed)
    assert refused.returncode == 6 and "non-public address" in refused.stderr
    assert cli(["webhooks", "rm", hook["id"]], authed).returncode == 0
    assert cli(["webhooks", "rm", hook["id"]], authed).returncode == 4
