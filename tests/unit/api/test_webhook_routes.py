"""/api/webhooks: registration rights, the secret shown once, the owner-only delivery log."""

from __future__ import annotations

from fastapi.testclient import TestClient

from persistence import Database
from tests.unit.api.conftest import Account, Api
from webhooks.outbox import enqueue_event

PUBLIC_URL = "https://93.184.216.34/hooks"  # a literal public address: no DNS needed


def register_hook(
    client: TestClient, account: Account, **body: object
) -> tuple[int, dict[str, object]]:
    r = client.post("/api/webhooks", json={"url": PUBLIC_URL, **body}, headers=account.headers)
    return r.status_code, r.json()


def test_account_webhook_shows_its_secret_once(client: TestClient, alice: Account) -> None:
    status, hook = register_hook(client, alice)
    assert status == 201
    assert str(hook["secret"]).startswith("whsec_")
    assert hook["events"] == ["completed", "failed", "summary"]
    assert hook["meeting_id"] is None
    listed = client.get("/api/webhooks", headers=alice.headers).json()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    one = client.get(f"/api/webhooks/{hook['id']}", headers=alice.headers).json()
    assert "secret" not in one and one["url"] == PUBLIC_URL


def test_meeting_webhook_needs_owner_or_editor(
    client: TestClient, api: Api, alice: Account, bob: Account
) -> None:
    meeting = api.create_meeting(alice)["id"]
    assert register_hook(client, bob, meeting_id=meeting)[0] == 404  # cannot see it
    api.share(alice, meeting, bob.email, "viewer")
    assert register_hook(client, bob, meeting_id=meeting)[0] == 403
    api.share(alice, meeting, bob.email, "editor")
    status, hook = register_hook(client, bob, meeting_id=meeting, events=["summary"])
    assert (status, hook["meeting_id"], hook["events"]) == (201, meeting, ["summary"])
    assert register_hook(client, alice, meeting_id="nope")[0] == 404


def test_internal_and_malformed_urls_are_refused(client: TestClient, alice: Account) -> None:
    for url in (
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/",
        "ftp://93.184.216.34/",
    ):
        r = client.post("/api/webhooks", json={"url": url}, headers=alice.headers)
        assert r.status_code == 422, url
        assert "Webhook URL refused" in r.json()["detail"]
    r = client.post(
        "/api/webhooks", json={"url": PUBLIC_URL, "events": ["deleted"]}, headers=alice.headers
    )
    assert r.status_code == 422


def test_other_users_webhooks_are_invisible(
    client: TestClient, alice: Account, bob: Account
) -> None:
    _, hook = register_hook(client, alice)
    for method, path in (
        ("GET", f"/api/webhooks/{hook['id']}"),
        ("GET", f"/api/webhooks/{hook['id']}/deliveries"),
        ("DELETE", f"/api/webhooks/{hook['id']}"),
    ):
        assert client.request(method, path, headers=bob.headers).status_code == 404
        assert client.request(method, path).status_code == 401
    assert client.get("/api/webhooks", headers=bob.headers).json() == []
    assert client.delete(f"/api/webhooks/{hook['id']}", headers=alice.headers).status_code == 204
    assert client.get("/api/webhooks", headers=alice.headers).json() == []


def test_delivery_log_lists_queued_events(
    client: TestClient, api: Api, alice: Account, db: Database
) -> None:
    meeting = api.create_meeting(alice)["id"]
    _, hook = register_hook(client, alice, meeting_id=meeting)
    with db.session() as s:
        event_id = enqueue_event(s, meeting, "failed", {"job_id": "j", "error": "x", "code": "y"})
    log = client.get(f"/api/webhooks/{hook['id']}/deliveries", headers=alice.headers).json()
    assert [(d["event_id"], d["event_type"], d["status"], d["attempts"]) for d in log] == [
        (event_id, "failed", "pending", 0)
    ]


def test_webhooks_per_user_are_bounded(client: TestClient, alice: Account) -> None:
    statuses = [register_hook(client, alice)[0] for _ in range(21)]
    assert statuses == [201] * 20 + [409]
