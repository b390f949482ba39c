"""Issue #15 items 6-9 (accounts half): logout revokes, members can be removed, add-member
cannot enumerate emails, summary regeneration is throttled, re-recording needs ``replace``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app
from core.types import Segment, Word
from persistence import Database, clear_transcript, create_job, save_segments, save_summary
from processor_api.backend import LocalBackend
from settings.config import Settings
from tests.unit.api.conftest import PASSWORD, Account, Api
from tests.unit.api.test_audio_routes import upload, wav_bytes

FIRST = [
    Segment("w0-0", "SPEAKER_00", "First take.", 0.5, 1.5, 0, [Word("First", 0.5, 0.9, 0.9)]),
]
SECOND = [Segment("w0-0", "SPEAKER_00", "Second take.", 0.4, 1.4, 0, [])]


# ---- logout (revocable sessions) ---------------------------------------------------------


def test_logout_revokes_every_token_of_the_user(client: TestClient, api: Api) -> None:
    alice = api.register("alice@example.com")
    other_device = api.login(alice.email)
    assert client.get("/api/auth/me", headers=alice.headers).status_code == 200
    assert client.post("/api/auth/logout", headers=alice.headers).status_code == 204
    for token in (alice.token, other_device):
        r = client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert r.json()["detail"] == "Invalid or expired token"
    assert client.post("/api/auth/logout", headers=alice.headers).status_code == 401
    fresh = api.login(alice.email)  # logging in again works and is not revoked
    assert (
        client.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh}"}).json()["email"]
        == alice.email
    )


def test_login_and_token_responses_stay_backward_compatible(client: TestClient, api: Api) -> None:
    api.register("alice@example.com")
    login = client.post(
        "/api/auth/login", json={"email": "alice@example.com", "password": PASSWORD}
    )
    form = client.post(
        "/api/auth/token", data={"username": "alice@example.com", "password": PASSWORD}
    )
    for r in (login, form):
        assert r.status_code == 200
        assert set(r.json()) == {"access_token", "token_type", "expires_in"}
        assert r.json()["token_type"] == "bearer"


def test_logout_needs_a_token(client: TestClient) -> None:
    assert client.post("/api/auth/logout").status_code == 401


# ---- member removal ----------------------------------------------------------------------


def test_owner_removes_a_member_who_then_loses_access(
    client: TestClient, api: Api, alice: Account, bob: Account
) -> None:
    meeting = api.create_meeting(alice)
    api.share(alice, meeting["id"], bob.email)
    url = f"/api/meetings/{meeting['id']}"
    assert client.get(url, headers=bob.headers).status_code == 200
    assert client.delete(f"{url}/members/{bob.id}", headers=alice.headers).status_code == 204
    assert client.get(url, headers=bob.headers).status_code == 404
    assert client.get("/api/meetings", headers=bob.headers).json() == []
    r = client.delete(f"{url}/members/{bob.id}", headers=alice.headers)
    assert (r.status_code, r.json()["detail"]) == (404, "This user is not a member")


def test_owner_lists_members_others_cannot(
    client: TestClient, api: Api, alice: Account, bob: Account
) -> None:
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}/members"
    assert client.get(url, headers=bob.headers).status_code == 404  # not shared: invisible
    api.share(alice, meeting["id"], bob.email)
    assert client.get(url, headers=bob.headers).status_code == 403
    members = client.get(url, headers=alice.headers).json()
    assert [(m["email"], m["role"], m["user_id"]) for m in members] == [
        (alice.email, "owner", alice.id),
        (bob.email, "viewer", bob.id),
    ]


def test_member_removal_access_rules(
    client: TestClient, api: Api, alice: Account, bob: Account
) -> None:
    carol = api.register("carol@example.com")
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}/members"
    # Not visible to bob: 404, as for every route of a meeting he cannot see.
    assert client.delete(f"{url}/{carol.id}", headers=bob.headers).status_code == 404
    api.share(alice, meeting["id"], bob.email, role="editor")
    api.share(alice, meeting["id"], carol.email)
    assert client.delete(f"{url}/{carol.id}", headers=bob.headers).status_code == 403
    assert client.delete(f"{url}/{alice.id}", headers=alice.headers).status_code == 409
    assert client.delete(f"{url}/{carol.id}").status_code == 401
    assert (
        client.delete(f"/api/meetings/nope/members/{carol.id}", headers=alice.headers).status_code
        == 404
    )


# ---- add-member email enumeration --------------------------------------------------------


@pytest.fixture
def lookup_client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"member_lookup_limit": 3}))
    with TestClient(app) as client:
        yield client


def test_add_member_cannot_be_used_to_enumerate_emails(lookup_client: TestClient) -> None:
    api = Api(lookup_client)
    alice = api.register("alice@example.com")
    api.register("bob@example.com")
    meeting = api.create_meeting(alice)
    url = f"/api/meetings/{meeting['id']}/members"

    def add(email: str) -> tuple[int, str | None]:
        r = lookup_client.post(url, json={"email": email}, headers=alice.headers)
        return r.status_code, r.headers.get("Retry-After")

    probes = [add(f"guess{i}@example.com")[0] for i in range(3)]
    assert probes == [404, 404, 404]  # the contract's answer for an unknown user
    status, retry_after = add("bob@example.com")  # a registered email now looks the same
    assert status == 429 and retry_after is not None and int(retry_after) > 0
    assert add("guess9@example.com")[0] == 429


# ---- summary regeneration ----------------------------------------------------------------


class SlowSummaries(LocalBackend):
    """A Processor whose summaries take until the test releases them."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def regenerate_summary(self, meeting_id: str) -> None:
        self.summary_requests.append(meeting_id)
        await self.release.wait()


@pytest.fixture
def slow_app(settings: Settings) -> FastAPI:
    return create_app(settings.model_copy(update={"summary_rate_limit": 2}), SlowSummaries())


def finished_meeting(api: Api, db: Database, owner: Account) -> str:
    meeting_id = str(api.create_meeting(owner)["id"])
    with db.session() as session:
        save_segments(session, meeting_id, FIRST)
    return meeting_id


def test_summary_regeneration_is_one_at_a_time_and_rate_limited(slow_app: FastAPI) -> None:
    backend: SlowSummaries = slow_app.state.backend
    with TestClient(slow_app) as client:
        api = Api(client)
        alice = api.register("alice@example.com")
        meeting_id = finished_meeting(api, slow_app.state.db, alice)
        url = f"/api/meetings/{meeting_id}/summary"
        assert client.post(url, headers=alice.headers).status_code == 202
        busy = client.post(url, headers=alice.headers)
        assert busy.status_code == 409
        assert busy.json()["detail"].startswith("A summary is already being generated")
        assert backend.summary_requests == [meeting_id]  # the LLM got one request
        client.portal.call(backend.release.set)  # type: ignore[union-attr]
        assert wait_for(lambda: post_status(client, url, alice) == 202)  # once the first ended
        refused: list[httpx.Response] = []
        assert wait_for(
            lambda: (
                refused.append(client.post(url, headers=alice.headers))
                or (
                    refused[-1].status_code == 429  # 409 until the second run has finished
                )
            )
        )
        assert int(refused[-1].headers["Retry-After"]) > 0
        assert len(backend.summary_requests) == 2


def post_status(client: TestClient, url: str, account: Account) -> int:
    return client.post(url, headers=account.headers).status_code


def wait_for(condition: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# ---- re-recording needs replace; earlier versions stay readable --------------------------


def test_upload_over_an_existing_transcript_needs_replace(
    client: TestClient, app: FastAPI, api: Api, alice: Account, db: Database
) -> None:
    meeting_id = finished_meeting(api, db, alice)
    r = upload(client, alice, meeting_id, wav_bytes())
    assert r.status_code == 409
    assert r.json()["code"] == "transcript_exists"
    assert "replace=true" in r.json()["detail"]
    assert app.state.backend.submitted == []  # nothing was queued, nothing replaced
    assert (
        client.get(f"/api/meetings/{meeting_id}/transcript", headers=alice.headers).json()[
            "segments"
        ][0]["text"]
        == "First take."
    )
    r = client.post(
        f"/api/meetings/{meeting_id}/audio?replace=true",
        files={"file": ("meeting.wav", wav_bytes(), "audio/wav")},
        headers=alice.headers,
    )
    assert r.status_code == 202
    assert len(app.state.backend.submitted) == 1


def test_first_upload_needs_no_replace(client: TestClient, api: Api, alice: Account) -> None:
    meeting = api.create_meeting(alice)
    assert upload(client, alice, meeting["id"], wav_bytes()).status_code == 202


def test_replaced_transcript_stays_retrievable_as_an_earlier_version(
    client: TestClient, api: Api, alice: Account, bob: Account, db: Database
) -> None:
    meeting_id = finished_meeting(api, db, alice)
    url = f"/api/meetings/{meeting_id}/transcript"
    with db.session() as session:
        save_summary(session, meeting_id, {"summary": "first"}, "extractive")
    assert client.get(f"{url}/versions", headers=alice.headers).json() == {
        "current": 1,
        "versions": [],
    }
    with db.session() as session:  # what the pipeline does when the new recording starts
        create_job(session, meeting_id, source="upload")
        clear_transcript(session, meeting_id)
        save_segments(session, meeting_id, SECOND)
    versions = client.get(f"{url}/versions", headers=alice.headers).json()
    assert versions["current"] == 2
    assert [(v["version"], v["segments"], v["has_summary"]) for v in versions["versions"]] == [
        (1, 1, True)
    ]
    old = client.get(url, params={"version": 1}, headers=alice.headers)
    assert old.status_code == 200
    assert old.json()["segments"][0]["text"] == "First take."
    assert old.json()["segments"][0]["words"][0]["word"] == "First"
    txt = client.get(url, params={"version": 1, "format": "txt"}, headers=alice.headers)
    assert txt.text.strip() == "[00:00:00] SPEAKER_00: First take."
    assert 'filename="' + meeting_id + '-v1.txt"' in txt.headers["Content-Disposition"]
    current = client.get(url, params={"version": 2}, headers=alice.headers).json()
    assert current["segments"][0]["text"] == "Second take."
    assert client.get(url, params={"version": 3}, headers=alice.headers).status_code == 404
    assert client.get(url, params={"version": 0}, headers=alice.headers).status_code == 422
    # Versions are meeting data: invisible to others like the rest of it.
    assert client.get(f"{url}/versions", headers=bob.headers).status_code == 404
    assert client.get(url, params={"version": 1}, headers=bob.headers).status_code == 404
