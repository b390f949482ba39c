"""Rename, merge, reassign: editors only, announced as ``speakers`` events, seen in exports."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.types import Segment
from persistence import Database, save_segments, save_summary
from tests.unit.api.conftest import Account, Api

SEGMENTS = [
    Segment("w0-0", "SPEAKER_00", "Good morning.", 0.0, 1.5, 0),
    Segment("w0-1", "SPEAKER_01", "Morning.", 2.0, 2.8, 0),
    Segment("w0-2", "SPEAKER_02", "Perfect.", 3.0, 3.5, 0),
]


@pytest.fixture
def meeting(api: Api, alice: Account, db: Database) -> str:
    meeting_id = str(api.create_meeting(alice)["id"])
    with db.session() as s:
        save_segments(s, meeting_id, SEGMENTS)
        save_summary(
            s,
            meeting_id,
            {"summary": "SPEAKER_00 opened.", "action_items": [], "details": {}},
            "extractive",
        )
    return meeting_id


def speakers_events(client: TestClient, account: Account, meeting_id: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/meetings/{meeting_id}/events", headers=account.headers)
    assert r.status_code == 200, r.text
    return [e for e in r.json()["events"] if e["type"] == "speakers"]


def txt(client: TestClient, account: Account, meeting_id: str) -> str:
    r = client.get(f"/api/meetings/{meeting_id}/transcript?format=txt", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.text


def test_rename_reaches_events_exports_and_summary(
    client: TestClient, alice: Account, meeting: str
) -> None:
    r = client.patch(
        f"/api/meetings/{meeting}/speakers/SPEAKER_00", json={"name": "Dana"}, headers=alice.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["speakers"]["SPEAKER_00"]["name"] == "Dana"
    assert txt(client, alice, meeting).splitlines()[0] == "[00:00:00] Dana: Good morning."
    summary = client.get(f"/api/meetings/{meeting}/summary", headers=alice.headers).json()
    assert summary["summary"] == "Dana opened."
    # Rename again, then back to the label: both fine, each one event.
    for name in ("Dana Smith", None):
        r = client.patch(
            f"/api/meetings/{meeting}/speakers/SPEAKER_00",
            json={"name": name},
            headers=alice.headers,
        )
        assert r.status_code == 200, r.text
    assert txt(client, alice, meeting).splitlines()[0] == "[00:00:00] SPEAKER_00: Good morning."
    events = speakers_events(client, alice, meeting)
    assert [e["change"]["name"] for e in events] == ["Dana", "Dana Smith", None]
    assert events[-1]["speakers"] == {}
    assert [e["seq"] for e in events] == sorted(e["seq"] for e in events)


def test_merge_and_reassign_show_in_every_export(
    client: TestClient, alice: Account, meeting: str
) -> None:
    r = client.post(
        f"/api/meetings/{meeting}/speakers/merge",
        json={"from": "SPEAKER_02", "into": "SPEAKER_01"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["merges"] == {"SPEAKER_02": "SPEAKER_01"}
    r = client.patch(
        f"/api/meetings/{meeting}/segments/w0-1",
        json={"speaker": "SPEAKER_00"},
        headers=alice.headers,
    )
    assert r.status_code == 200, r.text
    client.patch(
        f"/api/meetings/{meeting}/speakers/SPEAKER_01", json={"name": "Lee"}, headers=alice.headers
    )
    assert [
        line.split("] ")[1].split(":")[0] for line in txt(client, alice, meeting).splitlines()
    ] == [
        "SPEAKER_00",
        "SPEAKER_00",
        "Lee",
    ]
    rttm = client.get(f"/api/meetings/{meeting}/transcript?format=rttm", headers=alice.headers).text
    assert [line.split()[7] for line in rttm.splitlines()] == ["SPEAKER_00", "SPEAKER_00", "Lee"]
    body = client.get(
        f"/api/meetings/{meeting}/transcript?format=json", headers=alice.headers
    ).json()
    assert [(s["speaker"], s["speaker_label"]) for s in body["segments"]] == [
        ("SPEAKER_00", "SPEAKER_00"),
        ("SPEAKER_00", "SPEAKER_00"),
        ("Lee", "SPEAKER_01"),
    ]
    # Reassigning the line back to its original label removes the override.
    r = client.patch(
        f"/api/meetings/{meeting}/segments/w0-1",
        json={"speaker": "SPEAKER_01"},
        headers=alice.headers,
    )
    assert r.json()["segment_speakers"] == {}
    assert [e["change"]["action"] for e in speakers_events(client, alice, meeting)] == [
        "merge",
        "reassign",
        "rename",
        "reassign",
    ]


def test_a_merge_can_be_undone(client: TestClient, alice: Account, meeting: str) -> None:
    base = f"/api/meetings/{meeting}/speakers"
    h = alice.headers
    client.post(f"{base}/merge", json={"from": "SPEAKER_02", "into": "SPEAKER_01"}, headers=h)
    r = client.post(f"{base}/unmerge", json={"label": "SPEAKER_02"}, headers=h)
    assert r.status_code == 200 and r.json()["merges"] == {}
    assert txt(client, alice, meeting).splitlines()[2] == "[00:00:03] SPEAKER_02: Perfect."
    assert (
        client.post(f"{base}/unmerge", json={"label": "SPEAKER_02"}, headers=h).status_code == 409
    )
    events = speakers_events(client, alice, meeting)
    assert [e["change"]["action"] for e in events] == ["merge", "unmerge"]


def test_bad_edits_get_clear_errors(client: TestClient, alice: Account, meeting: str) -> None:
    h = alice.headers
    assert (
        client.patch(
            f"/api/meetings/{meeting}/speakers/SPEAKER_09", json={"name": "X"}, headers=h
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/api/meetings/{meeting}/speakers/merge",
            json={"from": "SPEAKER_01", "into": "SPEAKER_01"},
            headers=h,
        ).status_code
        == 409
    )
    assert (
        client.patch(
            f"/api/meetings/{meeting}/segments/w9-9", json={"speaker": "SPEAKER_00"}, headers=h
        ).status_code
        == 404
    )
    assert (
        client.patch(
            f"/api/meetings/{meeting}/speakers/SPEAKER_00", json={"name": "x" * 101}, headers=h
        ).status_code
        == 422
    )
    assert (
        client.patch(
            f"/api/meetings/{meeting}/speakers/SPEAKER_00", json={"name": "a\nb"}, headers=h
        ).status_code
        == 422
    )
    assert speakers_events(client, alice, meeting) == []


def test_viewers_get_403_and_strangers_404(
    client: TestClient, api: Api, alice: Account, bob: Account, meeting: str
) -> None:
    carol = api.register("carol@example.com")
    api.share(alice, meeting, bob.email, "viewer")
    api.share(alice, meeting, carol.email, "editor")
    rename = f"/api/meetings/{meeting}/speakers/SPEAKER_00"
    assert client.patch(rename, json={"name": "Dana"}, headers=bob.headers).status_code == 403
    assert client.get(f"/api/meetings/{meeting}/speakers", headers=bob.headers).status_code == 200
    assert client.patch(rename, json={"name": "Dana"}, headers=carol.headers).status_code == 200
    stranger = api.register("eve@example.com")
    for method, path, body in [
        ("PATCH", rename, {"name": "Eve"}),
        (
            "POST",
            f"/api/meetings/{meeting}/speakers/merge",
            {"from": "SPEAKER_01", "into": "SPEAKER_00"},
        ),
        ("PATCH", f"/api/meetings/{meeting}/segments/w0-0", {"speaker": "SPEAKER_01"}),
        ("GET", f"/api/meetings/{meeting}/speakers", None),
    ]:
        r = client.request(method, path, json=body, headers=stranger.headers)
        assert r.status_code == 404, (method, path)
    assert client.patch(rename, json={"name": "Dana"}).status_code == 401
