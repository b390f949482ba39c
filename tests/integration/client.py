"""A small API client for integration tests: REST over httpx, the room over websockets."""

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

PASSWORD = "correct horse battery staple"


@dataclass
class ApiUser:
    base_url: str
    ws_url: str
    email: str
    token: str

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
    r = httpx.post(
        f"{base_url}/api/auth/register", json={"email": email, "password": PASSWORD, "name": "T"}
    )
    assert r.status_code == 201, r.text
    r = httpx.post(f"{base_url}/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return ApiUser(base_url, ws_url, email, r.json()["access_token"])


@dataclass
class Received:
    message: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


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
    async with websockets.connect(url, subprotocols=["bearer", user.token]) as ws:  # type: ignore[list-item]
        async with asyncio.timeout(timeout_s):
            async for raw in ws:
                message = json.loads(raw)
                received.append(Received(message))
                if is_terminal(message, job_id):
                    return received
    return received


def is_terminal(message: dict[str, Any], job_id: str | None) -> bool:
    if message.get("type") != "status" or message["status"] not in {"completed", "failed"}:
        return False
    return job_id is None or message["details"].get("job_id") == job_id
