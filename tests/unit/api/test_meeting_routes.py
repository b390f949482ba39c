"""Meetings: CRUD, sharing, event replay and the access rules (404 hides, 403 for non-owners)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from core.types import Segment, Word
from persistence import (
    Database,
    Job,
    Meeting,
    Membership,
    Summary,
    append_event,
    create_job,
    save_segments,
    save_summary,
)
from persistence.models import RoomEvent, SegmentRow
from settings.config import Settings
from tests.unit.api.conftest import Account, Api


def row_counts(db: Database, meeting_id: str) -> dict[str, int]:
    counts = {}
    with db.session() as s:
        for model in (Membership, Job, SegmentRow, RoomEvent, Summary):
            query = select(func.count()).select_from(model).where(model.meeting_id == meeting_id)
            counts[model.__tablename__] = int(s.scalar(query) or 0)
        counts["meetings"] = int(
            s.scalar(select(func.count()).select_from(Meeting).where(Meeting.id == meeting_id)) or 0
        )
    return counts


def status_event(meeting_id: str, seq: int, stage: str) -> dict[str, Any]:
    return {
        "type": "status",
        "seq": seq,
        "meeting_id": meeting_id,
        "status": "processing",
        "details": {"stage": stage},
        "timestamp": "2026-01-01T00:00:00Z",
    }


def fill_meeting(db: Database, settings: Settings, meeting_id: str) -> None:
    """Everything processing would leave behind: events, segments, summary, a job, audio."""
    segment = Segment("w0-0", "SPEAKER_00", "Hello", 0.0, 1.0, 0, [Word("Hello", 0.0, 1.0, 0.9)])
    with db.session() as s:
        for seq, stage in enumerate(["upload", "diarization", "transcription"], start=1):
            append_event(s, meeting_id, seq, "status", status_event(meeting_id, seq, stage))
        save_segments(s, meeting_id, [segment])
        save_summary(s, meeting_id, {"summary": "Hi"}, "extractive")
        create_job(s, meeting_id, "upload")
    audio = settings.uploads_dir / meeting_id / "audio.wav"
    audio.parent.mkdir(parents=True)
    audio.write_bytes(b"RIFF")


def test_create_and_read_meeting(client: TestClient, alice: Account) -> None:
    r = client.post("/api/meetings", json={"title": "  Sprint review  "}, headers=alice.headers)
    assert r.status_code == 201
    meeting = r.json()
    assert meeting["title"] == "Sprint review"
    assert meeting["owner_id"] == alice.id
    assert meeting["status"] == "created"
    assert meeting["duration"] is None
    assert meeting["role"] == "owner"
    assert meeting["created_at"].endswith("Z")
    got = client.get(f"/api/meetings/{meeting['id']}", headers=alice.headers)
    assert got.json() == meeting


@pytest.mark.parametrize("title", ["", "   ", "x" * 201])
def test_create_meeting_rejects_bad_titles(client: TestClient, alice: Account, title: str) -> None:
    r = client.post("/api/meetings", json={"title": title}, headers=alice.headers)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "title"]


def test_meetings_require_a_token(client: TestClient) -> None:
    assert client.get("/api/meetings").status_code == 401
    assert client.post("/api/meetings", json={"title": "t"}).status_code == 401


def test_list_shows_owned_and_shared_meetings_only(
    api: Api, client: TestClient, alice: Account, bob: Account
) -> None:
    mine = api.create_meeting(alice, "Alice's")
    shared = api.create_meeting(bob, "Bob's shared")
    api.create_meeting(bob, "Bob's private")
    api.share(bob, shared["id"], alice.email)
    listed = client.get("/api/meetings", headers=alice.headers).json()
    assert sorted((m["title"], m["role"]) for m in listed) == [
        ("Alice's", "owner"),
        ("Bob's shared", "viewer"),
    ]
    assert mine["id"] in {m["id"] for m in listed}


def list_pages(client: TestClient, account: Account, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of the meetings list, following ``Link: rel="next"``."""
    pages, url = [], f"/api/meetings?limit={limit}"
    while url:
        r = client.get(url, headers=account.headers)
        assert r.status_code == 200, r.text
        pages.append(r.json())
        url = r.links.get("next", {}).get("url", "")
    return pages


def test_list_pages_newest_first_through_next_links(
    api: Api, client: TestClient, db: Database, alice: Account, bob: Account
) -> None:
    made = [api.create_meeting(alice, f"m{i}")["id"] for i in range(5)]
    shared = api.create_meeting(bob, "Bob's shared")["id"]
    api.share(bob, shared, alice.email)
    api.create_meeting(bob, "Bob's private")
    with db.session() as s:  # three meetings created in the same instant: ties go by id
        same = s.scalar(select(Meeting.created_at).where(Meeting.id == made[2]))
        for meeting_id in made[:2]:
            s.get(Meeting, meeting_id).created_at = same  # type: ignore[union-attr]
    everything = client.get("/api/meetings", headers=alice.headers)
    assert "link" not in everything.headers
    expected = [m["id"] for m in everything.json()]
    assert len(expected) == 6 and shared in expected

    pages = list_pages(client, alice, limit=2)
    assert [len(page) for page in pages] == [2, 2, 2]
    assert [m["id"] for page in pages for m in page] == expected


def test_a_page_boundary_holds_while_meetings_come_and_go(
    api: Api, client: TestClient, alice: Account
) -> None:
    ids = [api.create_meeting(alice, f"m{i}")["id"] for i in range(4)]  # newest last
    first = client.get("/api/meetings?limit=2", headers=alice.headers)
    assert [m["id"] for m in first.json()] == [ids[3], ids[2]]
    api.create_meeting(alice, "newer")  # before the boundary: not on the next page
    assert client.delete(f"/api/meetings/{ids[3]}", headers=alice.headers).status_code == 204
    second = client.get(first.links["next"]["url"], headers=alice.headers)
    assert [m["id"] for m in second.json()] == [ids[1], ids[0]]
    assert "link" not in second.headers


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", 422),
        ("limit=1001", 422),
        ("cursor=not-a-cursor", 400),
        ("cursor=" + "A" * 201, 422),
        ("cursor=MjAyNi0wMS0wMXw", 400),  # a time without a zone, or no id: never issued
    ],
)
def test_list_refuses_bad_paging(client: TestClient, alice: Account, query: str, code: int) -> None:
    r = client.get(f"/api/meetings?{query}", headers=alice.headers)
    assert r.status_code == code, r.text


def test_viewer_reads_but_cannot_delete_or_share(
    api: Api, client: TestClient, db: Database, alice: Account, bob: Account
) -> None:
    meeting = api.create_meeting(alice)
    api.share(alice, meeting["id"], bob.email)
    carol = api.register("carol@example.com")
    before = row_counts(db, meeting["id"])
    assert client.get(f"/api/meetings/{meeting['id']}", headers=bob.headers).json()["role"] == (
        "viewer"
    )
    delete = client.delete(f"/api/meetings/{meeting['id']}", headers=bob.headers)
    share = client.post(
        f"/api/meetings/{meeting['id']}/members",
        json={"email": carol.email, "role": "viewer"},
        headers=bob.headers,
    )
    assert (delete.status_code, share.status_code) == (403, 403)
    assert delete.json() == {"detail": "Only the meeting's owner can do this"}
    assert row_counts(db, meeting["id"]) == before


def test_stranger_gets_404_for_everything_and_changes_nothing(
    api: Api, client: TestClient, db: Database, settings: Settings, alice: Account, bob: Account
) -> None:
    meeting_id = api.create_meeting(alice)["id"]
    fill_meeting(db, settings, meeting_id)
    before = row_counts(db, meeting_id)
    base = f"/api/meetings/{meeting_id}"
    answers = [
        client.get(base, headers=bob.headers),
        client.get(f"{base}/events", headers=bob.headers),
        client.delete(base, headers=bob.headers),
        client.post(f"{base}/members", json={"email": bob.email}, headers=bob.headers),
    ]
    assert [r.status_code for r in answers] == [404, 404, 404, 404]
    assert all(r.json() == {"detail": "Meeting not found"} for r in answers)
    assert row_counts(db, meeting_id) == before
    assert (settings.uploads_dir / meeting_id / "audio.wav").exists()


def test_unknown_meeting_is_404(client: TestClient, alice: Account) -> None:
    assert client.get("/api/meetings/nope", headers=alice.headers).status_code == 404


def test_owner_delete_removes_everything(
    api: Api, client: TestClient, db: Database, settings: Settings, alice: Account, bob: Account
) -> None:
    meeting_id = api.create_meeting(alice)["id"]
    other_id = api.create_meeting(alice, "Keep me")["id"]
    api.share(alice, meeting_id, bob.email)
    fill_meeting(db, settings, meeting_id)
    fill_meeting(db, settings, other_id)
    r = client.delete(f"/api/meetings/{meeting_id}", headers=alice.headers)
    assert r.status_code == 204
    assert r.content == b""
    assert set(row_counts(db, meeting_id).values()) == {0}
    assert not (settings.uploads_dir / meeting_id).exists()
    assert row_counts(db, other_id) == {
        "memberships": 1,
        "jobs": 1,
        "segments": 1,
        "room_events": 3,
        "summaries": 1,
        "meetings": 1,
    }
    assert (settings.uploads_dir / other_id / "audio.wav").exists()
    assert client.get(f"/api/meetings/{meeting_id}", headers=alice.headers).status_code == 404


def test_share_unknown_email_is_404_and_reshare_changes_role(
    api: Api, client: TestClient, alice: Account, bob: Account
) -> None:
    meeting_id = api.create_meeting(alice)["id"]
    url = f"/api/meetings/{meeting_id}/members"
    missing = client.post(url, json={"email": "ghost@example.com"}, headers=alice.headers)
    assert missing.status_code == 404
    assert missing.json() == {"detail": "No account with this email"}
    first = client.post(url, json={"email": "BOB@example.com"}, headers=alice.headers)
    assert first.status_code == 201
    assert first.json() == {
        "meeting_id": meeting_id,
        "user_id": bob.id,
        "email": bob.email,
        "role": "viewer",
    }
    client.post(url, json={"email": bob.email, "role": "editor"}, headers=alice.headers)
    assert client.get(f"/api/meetings/{meeting_id}", headers=bob.headers).json()["role"] == "editor"
    owner_role = client.post(url, json={"email": bob.email, "role": "owner"}, headers=alice.headers)
    assert owner_role.status_code == 422
    myself = client.post(url, json={"email": alice.email}, headers=alice.headers)
    assert myself.status_code == 409


def test_events_replay_after_seq_in_order(
    api: Api, client: TestClient, db: Database, settings: Settings, alice: Account, bob: Account
) -> None:
    meeting_id = api.create_meeting(alice)["id"]
    fill_meeting(db, settings, meeting_id)
    url = f"/api/meetings/{meeting_id}/events"
    everything = client.get(url, headers=alice.headers).json()["events"]
    assert [e["seq"] for e in everything] == [1, 2, 3]
    assert everything[0] == status_event(meeting_id, 1, "upload")
    after_one = client.get(url, params={"after_seq": 1}, headers=alice.headers).json()
    assert [e["details"]["stage"] for e in after_one["events"]] == ["diarization", "transcription"]
    page = client.get(url, params={"after_seq": 1, "limit": 1}, headers=alice.headers).json()
    assert [e["seq"] for e in page["events"]] == [2]
    assert client.get(url, params={"after_seq": 3}, headers=alice.headers).json() == {"events": []}
    assert client.get(url, params={"after_seq": -1}, headers=alice.headers).status_code == 422
    api.share(alice, meeting_id, bob.email)
    assert len(client.get(url, headers=bob.headers).json()["events"]) == 3


def test_deleting_a_meeting_drops_its_room_from_the_hub(
    api: Api, client: TestClient, app: FastAPI, alice: Account
) -> None:
    meeting_id = api.create_meeting(alice)["id"]
    kept_id = api.create_meeting(alice, "Keep me")["id"]
    hub = app.state.hub
    for room in (meeting_id, kept_id):  # a published event opens the room in the hub
        client.portal.call(hub.publish, room, {"type": "status"})  # type: ignore[union-attr]
    assert hub.open_rooms == 2
    assert client.delete(f"/api/meetings/{meeting_id}", headers=alice.headers).status_code == 204
    assert hub.open_rooms == 1
