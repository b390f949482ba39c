"""Issue #15 (accounts half) on the real cluster: logout closes sockets through the Serve proxy,
and re-recording replaces a transcript only when asked while keeping the old one."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from scripts.synth_meeting import ensure_meeting
from tests.integration.client import ApiUser, collect_until_done, register
from tests.integration.conftest import RunningPlatform

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def user(platform: RunningPlatform) -> ApiUser:
    return register(platform.base_url, platform.ws_url)


async def close_after_logout(user: ApiUser, meeting_id: str) -> int | None:
    url = f"{user.ws_url}/ws/meeting/{meeting_id}"
    async with websockets.connect(url, subprotocols=["bearer", user.token]) as ws:  # type: ignore[list-item]
        assert json.loads(await ws.recv())["type"] == "connected"
        async with httpx.AsyncClient() as client:
            r = await client.post(f"{user.base_url}/api/auth/logout", headers=user.headers)
            assert r.status_code == 204
        try:
            async with asyncio.timeout(30):  # the default re-check interval is 15 s
                async for _ in ws:
                    pass
        except ConnectionClosed as e:
            return e.rcvd.code if e.rcvd else None
        return ws.close_code


def test_logout_revokes_the_token_and_closes_its_socket(platform: RunningPlatform) -> None:
    user = register(platform.base_url, platform.ws_url)
    meeting_id = user.create_meeting("Logout")
    assert asyncio.run(close_after_logout(user, meeting_id)) == 4401
    assert user.get("/api/auth/me").status_code == 401


def test_replacing_a_transcript_needs_consent_and_keeps_the_old_one(user: ApiUser) -> None:
    audio = ensure_meeting("short2", install=True).audio_path
    meeting_id = user.create_meeting("Recorded twice")
    assert user.upload(meeting_id, audio).status_code == 202
    assert asyncio.run(collect_until_done(user, meeting_id, 300, 0))[-1].message["status"] == (
        "completed"
    )
    first = user.get(f"/api/meetings/{meeting_id}/transcript").json()["segments"]
    refused = user.upload(meeting_id, audio)
    assert (refused.status_code, refused.json()["code"]) == (409, "transcript_exists")
    accepted = user.upload(meeting_id, audio, replace=True)
    assert accepted.status_code == 202
    job_id = accepted.json()["job_id"]
    done = asyncio.run(collect_until_done(user, meeting_id, 300, 0, job_id=job_id))
    assert done[-1].message["status"] == "completed"
    versions = user.get(f"/api/meetings/{meeting_id}/transcript/versions").json()
    assert versions["current"] == 2
    assert [v["version"] for v in versions["versions"]] == [1]
    assert versions["versions"][0]["has_summary"] is True
    old = user.get(f"/api/meetings/{meeting_id}/transcript", version=1).json()["segments"]
    assert old == first
