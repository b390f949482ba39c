"""The ``meetingserve`` command-line client against the real cluster, run as a process.

``upload --watch`` must print every segment exactly once even when the Ingress replica
holding its room socket is killed mid-stream (Serve replaces it; the client resumes with
``last_seq``), and ``export`` must write a valid SRT of the server's transcript.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pytest

from benchmarks.platform import wait_ready
from scripts.synth_meeting import MeetingAudio, ensure_meeting
from tests.browser.replicas import kill_ingress_replicas, wait_for_replacement
from tests.integration.cli_runner import cli_argv, cli_env, run_cli
from tests.integration.client import PASSWORD, ApiUser, register
from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow

SRT_CUE = re.compile(
    r"(?P<n>\d+)\n(?P<start>\d\d:\d\d:\d\d,\d{3}) --> (?P<end>\d\d:\d\d:\d\d,\d{3})\n(?P<text>.+)"
)


@pytest.fixture(scope="module")
def standup() -> MeetingAudio:
    return ensure_meeting("standup3", install=True)


@pytest.fixture(scope="module")
def user(platform: RunningPlatform) -> ApiUser:
    return register(platform.base_url, platform.ws_url)


@pytest.fixture
def env(platform: RunningPlatform, user: ApiUser, tmp_path: Path) -> dict[str, str]:
    return cli_env(user, platform.base_url, tmp_path / "config" / "config.json")


@dataclass
class LineReader:
    """Collects a pipe's lines on a thread, so the test can react to the first one."""

    lines: list[str] = field(default_factory=list)
    first: threading.Event = field(default_factory=threading.Event)

    def follow(self, pipe: IO[str]) -> threading.Thread:
        def read() -> None:
            for line in pipe:
                self.lines.append(line.rstrip("\n"))
                self.first.set()

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread


def server_segments(user: ApiUser, meeting_id: str) -> list[dict[str, Any]]:
    r = user.get(f"/api/meetings/{meeting_id}/transcript", format="json")
    assert r.status_code == 200, r.text
    segments: list[dict[str, Any]] = r.json()["segments"]
    return segments


def published_segments(user: ApiUser, meeting_id: str) -> list[dict[str, Any]]:
    """The segments as the room published them (what a watcher prints), before any later
    speaker edit (a rename, or a short turn re-attributed at the end) that exports apply."""
    r = user.get(f"/api/meetings/{meeting_id}/events", after_seq=0, limit=5000)
    assert r.status_code == 200, r.text
    return [e["segment"] for e in r.json()["events"] if e["type"] == "transcript"]


def meeting_from(stderr: str) -> str:
    match = re.search(r"Meeting (\S+): ", stderr)
    assert match, stderr
    return match.group(1)


@dataclass(frozen=True)
class WatchRun:
    meeting_id: str
    lines: list[str]
    stderr: str
    code: int
    killed: list[str]
    lines_at_kill: int


@pytest.fixture(scope="module")
def watched(
    platform: RunningPlatform, user: ApiUser, standup: MeetingAudio, tmp_path_factory: Any
) -> WatchRun:
    """``upload --watch --json`` with every Ingress replica killed after the first segment."""
    config = tmp_path_factory.mktemp("cli") / "config.json"
    args = ["upload", str(standup.audio_path), "--watch", "--json", "--title", "CLI standup"]
    process = subprocess.Popen(
        [*cli_argv(), *args],
        env=cli_env(user, platform.base_url, config),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    out, err = LineReader(), LineReader()
    threads = [out.follow(process.stdout), err.follow(process.stderr)]
    killed: list[str] = []
    try:
        assert out.first.wait(300), "no segment printed:\n" + "\n".join(err.lines)
        lines_at_kill = len(out.lines)
        killed = kill_ingress_replicas()
        code = process.wait(timeout=600)
    finally:
        if process.poll() is None:
            process.kill()
        if killed:
            wait_for_replacement(killed)
            wait_ready(platform.base_url)
    for thread in threads:
        thread.join(timeout=10)
    stderr = "\n".join(err.lines)
    return WatchRun(meeting_from(stderr), out.lines, stderr, code, killed, lines_at_kill)


def test_upload_watch_prints_every_segment_once_across_a_killed_ingress(
    watched: WatchRun, user: ApiUser
) -> None:
    assert watched.killed, "the Ingress was never killed"
    assert watched.code == 0, watched.stderr
    printed = [json.loads(line) for line in watched.lines]
    expected = server_segments(user, watched.meeting_id)
    assert [(s["id"], s["speaker"], s["text"]) for s in printed] == [
        (s["id"], s["speaker"], s["text"]) for s in expected
    ]
    stderr = watched.stderr
    assert "reconnecting from seq" in stderr and "Reconnected" in stderr
    # Some segments were published while the client was away: the resume had work to do.
    assert 0 < watched.lines_at_kill < len(printed)
    assert "Completed" in stderr
    assert user.token not in stderr  # never printed


def test_export_writes_a_valid_srt_of_the_transcript(
    watched: WatchRun, user: ApiUser, env: dict[str, str], tmp_path: Path
) -> None:
    meeting_id = watched.meeting_id
    target = tmp_path / "meeting.srt"
    result = run_cli(["export", meeting_id, "--format", "srt", "-o", str(target)], env)
    assert result.returncode == 0, result.stderr
    cues = target.read_text().strip().split("\n\n")
    expected = server_segments(user, meeting_id)
    assert len(cues) == len(expected)
    for n, (cue, segment) in enumerate(zip(cues, expected, strict=True), start=1):
        match = SRT_CUE.fullmatch(cue)
        assert match, cue
        assert int(match["n"]) == n
        assert srt_seconds(match["start"]) == pytest.approx(segment["start"], abs=0.001)
        assert srt_seconds(match["start"]) < srt_seconds(match["end"])
        assert match["text"] == f"{segment['speaker']}: {segment['text']}"


def srt_seconds(clock: str) -> float:
    hms, ms = clock.split(",")
    h, m, s = (int(x) for x in hms.split(":"))
    return h * 3600 + m * 60 + s + int(ms) / 1000


def test_summary_and_meetings_list(watched: WatchRun, env: dict[str, str]) -> None:
    meeting_id = watched.meeting_id
    summary = run_cli(["summary", meeting_id], env)
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.startswith("# ") and "## Summary" in summary.stdout
    listed = run_cli(["meetings", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    rows = {m["id"]: m for m in json.loads(listed.stdout)}
    assert rows[meeting_id]["status"] == "completed"
    assert rows[meeting_id]["title"] == "CLI standup"


def test_exit_codes_for_scripts(
    platform: RunningPlatform, env: dict[str, str], tmp_path: Path
) -> None:
    assert run_cli(["export", "no-such-meeting"], env).returncode == 4
    bad_token = {**env, "MEETINGSERVE_TOKEN": "not-a-token"}
    result = run_cli(["meetings"], bad_token)
    assert result.returncode == 3
    assert "not-a-token" not in result.stderr + result.stdout
    no_token = {k: v for k, v in env.items() if k != "MEETINGSERVE_TOKEN"}
    assert run_cli(["meetings"], no_token).returncode == 3
    assert run_cli(["export", "x", "--format", "docx"], env).returncode == 2
    unreachable = {**env, "MEETINGSERVE_URL": "http://127.0.0.1:9"}
    assert run_cli(["meetings"], unreachable).returncode == 5
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    assert run_cli(["upload", str(empty)], env).returncode == 6  # 400: not decodable


def test_login_stores_the_token_privately_and_later_commands_use_it(
    platform: RunningPlatform, user: ApiUser, tmp_path: Path
) -> None:
    config = tmp_path / "cfg" / "config.json"
    env = cli_env(None, platform.base_url, config)
    login = run_cli(["login", "--email", user.email, "--password-stdin"], env, PASSWORD + "\n")
    assert login.returncode == 0, login.stderr
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    stored = json.loads(config.read_text())
    assert stored["server"] == platform.base_url
    assert stored["token"] not in login.stdout + login.stderr
    whoami = run_cli(["whoami"], {k: v for k, v in env.items() if k != "MEETINGSERVE_URL"})
    assert (whoami.returncode, whoami.stdout.strip()) == (0, user.email)
    wrong = run_cli(["login", "--email", user.email, "--password-stdin"], env, "nope\n")
    assert wrong.returncode == 3
    assert run_cli(["logout"], env).returncode == 0
    assert run_cli(["whoami"], env).returncode == 3


def test_live_streams_a_file_at_real_time_and_prints_its_segments(
    user: ApiUser, env: dict[str, str], tmp_path: Path
) -> None:
    planning = ensure_meeting("planning2", install=True)
    clip = tmp_path / "clip.wav"
    write_wav(clip, planning.load_audio()[: 20 * 16_000])
    began = time.monotonic()
    result = run_cli(["live", str(clip), "--title", "CLI live"], env, timeout_s=300)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - began >= 20  # real time, not faster
    meeting_id = meeting_from(result.stderr)
    expected = published_segments(user, meeting_id)
    assert [s["text"] for s in expected] == [s["text"] for s in server_segments(user, meeting_id)]
    lines = result.stdout.strip().splitlines()
    assert len(lines) == len(expected) >= 1
    for line, segment in zip(lines, expected, strict=True):
        assert line.endswith(f"] {segment['speaker']}: {segment['text']}")


def write_wav(path: Path, audio: np.ndarray) -> None:
    import wave

    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(16_000)
        f.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
