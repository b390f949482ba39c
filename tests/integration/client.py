"""A small API client for integration tests: REST over httpx, the room over websockets.

The room is followed with the benchmarks' client (``benchmarks/client.py``), which uses the
shipped CLI's protocol helpers (the bearer subprotocol, what ends a job).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import websockets

from benchmarks.client import Arrival, receive_until_terminal, sign_up
from meetingserve_cli.room import bearer

PASSWORD = "correct horse battery staple"


@dataclass
class ApiUser:
    base_url: str
    ws_url: str
    email: str
    token: str = field(repr=False)  # failures print the user; never its token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def create_meeting(self, title: str = "Weekly standup") -> str:
        r = httpx.post(f"{self.base_url}/api/meetings", json={"title": title}, headers=self.headers)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    def upload(
        self, meeting_id: str, path: Path, name: str = "meeting.wav", replace: bool = False
    ) -> httpx.Response:
        with path.open("rb") as f:
            return httpx.post(
                f"{self.base_url}/api/meetings/{meeting_id}/audio",
                params={"replace": "true"} if replace else None,
                files={"file": (name, f, "application/octet-stream")},
                headers=self.headers,
                timeout=120,
            )

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.base_url}{path}", params=params, headers=self.headers, timeout=30)


def register(base_url: str, ws_url: str) -> ApiUser:
    email = f"user-{uuid.uuid4().hex[:10]}@example.com"
    return ApiUser(base_url, ws_url, email, sign_up(base_url, email, PASSWORD, "T"))


Received = Arrival  # a room message and its arrival time


async def collect_until_done(
    user: ApiUser,
    meeting_id: str,
    timeout_s: float = 600,
    last_seq: int | None = None,
    job_id: str | None = None,
) -> list[Received]:
    """Every room message until a terminal status (of ``job_id`` when given)."""
    url = f"{user.ws_url}/ws/meeting/{meeting_id}"
    if last_seq is not None:
        url += f"?last_seq={last_seq}"
    received: list[Received] = []
    async with websockets.connect(url, subprotocols=bearer(user.token)) as ws:
        async with asyncio.timeout(timeout_s):
            await receive_until_terminal(ws, received, job_id)
    return received
