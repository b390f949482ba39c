"""The benchmark's API client: one upload through the real REST + WebSocket path, timed.

Every room message is stamped with the client's monotonic clock on arrival, so time to first
segment and end-to-end time are what a user of the API would see, upload transfer included.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from core.speaker_edits import SpeakerEdits
from meetingserve_cli.room import bearer, is_terminal

PASSWORD = "benchmark horse battery staple"  # noqa: S105 - throwaway benchmark account


class BenchmarkApiError(RuntimeError):
    """The platform answered a benchmark request with an unexpected status."""

    def __init__(self, action: str, status_code: int, body: str) -> None:
        super().__init__(f"{action} failed with HTTP {status_code}: {body[:300]}")
        self.action = action
        self.status_code = status_code
        self.body = body


@dataclass(frozen=True)
class Arrival:
    """A room message and when it arrived (``time.monotonic()``)."""

    at: float
    message: dict[str, Any]


@dataclass
class MeetingRun:
    """One processed upload as the client saw it."""

    meeting_id: str
    started: float  # just before the upload request was sent
    upload_done: float = 0.0
    arrivals: list[Arrival] = field(default_factory=list)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [a.message for a in self.arrivals if a.message.get("type") == kind]

    @property
    def status(self) -> str:
        statuses = self.of_type("status")
        return str(statuses[-1]["status"]) if statuses else "unknown"

    @property
    def segments(self) -> list[dict[str, Any]]:
        return [m["segment"] for m in self.of_type("transcript")]

    @property
    def attributed_segments(self) -> list[dict[str, Any]]:
        """The segments with the speaker label a client shows: the last ``speakers`` event's
        line reassignments and merges applied (labels, not names)."""
        states = self.of_type("speakers")
        if not states:
            return self.segments
        edits = SpeakerEdits(
            merges=dict(states[-1].get("merges") or {}),
            segment_speakers=dict(states[-1].get("segment_speakers") or {}),
        )
        return [{**s, "speaker": edits.segment_label(s["id"], s["speaker"])} for s in self.segments]


@dataclass(frozen=True)
class BenchUser:
    base_url: str
    ws_url: str
    token: str
    email: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def register_user(base_url: str, ws_url: str) -> BenchUser:
    """A fresh account per benchmark run, so runs never see each other's meetings."""
    email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
    return BenchUser(base_url, ws_url, sign_up(base_url, email, PASSWORD, "Benchmark"), email)


def sign_up(base_url: str, email: str, password: str, name: str) -> str:
    """Register an account and log in; returns its access token."""
    body = {"email": email, "password": password, "name": name}
    r = httpx.post(f"{base_url}/api/auth/register", json=body, timeout=30)
    if r.status_code != 201:
        raise BenchmarkApiError("register", r.status_code, r.text)
    r = httpx.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": password}, timeout=30
    )
    if r.status_code != 200:
        raise BenchmarkApiError("login", r.status_code, r.text)
    return str(r.json()["access_token"])


def create_meeting(user: BenchUser, title: str) -> str:
    r = httpx.post(
        f"{user.base_url}/api/meetings", json={"title": title}, headers=user.headers, timeout=30
    )
    if r.status_code != 201:
        raise BenchmarkApiError("create meeting", r.status_code, r.text)
    return str(r.json()["id"])


def upload_audio(user: BenchUser, meeting_id: str, path: Path) -> None:
    with path.open("rb") as f:
        r = httpx.post(
            f"{user.base_url}/api/meetings/{meeting_id}/audio",
            files={"file": (path.name, f, "application/octet-stream")},
            headers=user.headers,
            timeout=600,
        )
    if r.status_code != 202:
        raise BenchmarkApiError("upload", r.status_code, r.text)


def fetch_summary(user: BenchUser, meeting_id: str) -> dict[str, Any]:
    r = httpx.get(
        f"{user.base_url}/api/meetings/{meeting_id}/summary", headers=user.headers, timeout=30
    )
    if r.status_code != 200:
        raise BenchmarkApiError("summary", r.status_code, r.text)
    result: dict[str, Any] = r.json()
    return result


async def process_upload(
    user: BenchUser, path: Path, title: str, timeout_s: float = 3600
) -> MeetingRun:
    """Create a meeting, subscribe to its room, upload, and record every event until the
    terminal status. The socket connects (and receives ``connected``) before the upload."""
    meeting_id = await asyncio.to_thread(create_meeting, user, title)
    url = f"{user.ws_url}/ws/meeting/{meeting_id}?last_seq=0"
    async with websockets.connect(url, subprotocols=bearer(user.token), max_size=None) as ws:
        first = json.loads(await ws.recv())
        if first.get("type") != "connected":
            raise BenchmarkApiError("subscribe", 0, json.dumps(first))
        run = MeetingRun(meeting_id, started=time.monotonic())
        upload = asyncio.create_task(asyncio.to_thread(upload_audio, user, meeting_id, path))
        upload.add_done_callback(lambda _t: setattr(run, "upload_done", time.monotonic()))
        receiver = asyncio.create_task(receive_until_terminal(ws, run.arrivals))
        try:
            async with asyncio.timeout(timeout_s):
                # A rejected upload never produces a terminal status: stop on its error.
                await asyncio.wait({upload, receiver}, return_when=asyncio.FIRST_EXCEPTION)
                if upload.done() and upload.exception() is not None:
                    await upload
                await receiver
                await upload
        finally:
            receiver.cancel()
    return run


async def receive_until_terminal(
    ws: Any, arrivals: list[Arrival], job_id: str | None = None
) -> None:
    """Append every room message, stamped on arrival, until a terminal status (of ``job_id``
    when given)."""
    async for raw in ws:
        message = json.loads(raw)
        arrivals.append(Arrival(time.monotonic(), message))
        if is_terminal(message, job_id):
            return
