"""The outbox and the delivery loop on a real SQLite database, sending to a real HTTP server.

A "restart" is a new ``WebhookDispatcher`` (and ``Database``) on the same database file: the
only state a delivery has is its row, which is what survives a Processor or Ingress restart.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from persistence import Database, create_meeting, create_user, share_meeting, upgrade_database
from persistence.models import WebhookDelivery, utcnow
from settings.config import Settings
from tests.webhook_receiver import WebhookReceiver
from webhooks.dispatcher import WebhookDispatcher
from webhooks.outbox import claim_due, create_webhook, enqueue_event, list_deliveries
from webhooks.signing import verify_signature


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'meetings.db'}"
    upgrade_database(url)
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


def fast_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "webhook_allowed_networks": ["127.0.0.0/8"],
        "webhook_retry_base_s": 0.2,
        "webhook_retry_max_interval_s": 0.4,
        "webhook_retry_window_s": 60,
        "webhook_timeout_s": 2,
    }
    return Settings(**(values | overrides))


@pytest.fixture
async def receiver() -> Any:
    r = WebhookReceiver().start()
    yield r
    r.stop()


def setup_hook(db: Database, url: str, events: list[str] | None = None) -> tuple[str, str, str]:
    """A user, their meeting and a meeting webhook: ``(meeting_id, webhook_id, secret)``."""
    with db.session() as s:
        user = create_user(s, email="owner@example.com", name="O", password_hash="h")
        meeting = create_meeting(s, owner_id=user.id, title="Standup")
        hook = create_webhook(s, user.id, url, events or ["completed", "summary"], meeting.id)
        return meeting.id, hook.id, hook.secret


def enqueue(db: Database, meeting_id: str, event_type: str = "completed") -> str | None:
    with db.session() as s:
        return enqueue_event(s, meeting_id, event_type, {"job_id": "j1"})


def delivery_rows(db: Database, webhook_id: str) -> list[WebhookDelivery]:
    with db.session() as s:
        return list_deliveries(s, webhook_id)


async def test_delivery_is_signed_json_with_event_headers(
    db: Database, receiver: WebhookReceiver
) -> None:
    meeting_id, hook_id, secret = setup_hook(db, receiver.url)
    event_id = enqueue(db, meeting_id)
    dispatcher = WebhookDispatcher(db, fast_settings())
    try:
        assert await dispatcher.deliver_due() == 1
    finally:
        await dispatcher.stop()
    [request] = receiver.requests
    assert request.path == "/hooks/meetingserve"
    assert request.headers["X-MeetingServe-Event-Id"] == event_id
    assert request.headers["X-MeetingServe-Event"] == "completed"
    assert request.headers["X-MeetingServe-Delivery-Attempt"] == "1"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Host"] == f"127.0.0.1:{receiver.port}"
    verify_signature(secret, request.headers["X-MeetingServe-Signature"], request.body)
    body = json.loads(request.body)
    assert body["id"] == event_id
    assert body["type"] == "completed"
    assert body["meeting_id"] == meeting_id
    assert body["data"]["job_id"] == "j1"
    assert body["data"]["meeting"]["title"] == "Standup"
    [row] = delivery_rows(db, hook_id)
    assert (row.status, row.attempts, row.last_status_code) == ("delivered", 1, 204)


async def test_receiver_down_then_up_gets_each_event_once_after_a_restart(
    db_url: str, db: Database
) -> None:
    receiver = WebhookReceiver()  # not started: connection refused
    meeting_id, hook_id, secret = setup_hook(db, receiver.url)
    first, second = enqueue(db, meeting_id), enqueue(db, meeting_id, "summary")
    slow_retry = fast_settings(webhook_retry_base_s=2, webhook_retry_max_interval_s=2)
    before = WebhookDispatcher(db, slow_retry)
    assert await before.deliver_due() == 2
    await before.stop()
    rows = delivery_rows(db, hook_id)
    assert {(r.status, r.attempts) for r in rows} == {("pending", 1)}
    assert all(r.last_error and "ConnectError" in r.last_error for r in rows)
    for r in rows:
        assert r.last_attempt_at is not None
        assert (r.next_attempt_at - r.last_attempt_at).total_seconds() == pytest.approx(2)
    # "Restart": a new process on the same database; the receiver comes back.
    receiver.start()
    restarted_db = Database(db_url)
    after = WebhookDispatcher(restarted_db, slow_retry)
    try:
        assert await after.deliver_due() == 0  # not due before the backoff
        due = max(r.next_attempt_at for r in rows)
        await asyncio.sleep(max(0.0, (due - utcnow()).total_seconds()) + 0.1)
        assert await after.deliver_due() == 2
        await asyncio.sleep(0.5)
        assert await after.deliver_due() == 0  # delivered rows are never sent again
    finally:
        await after.stop()
        restarted_db.dispose()
        receiver.stop()
    assert sorted(receiver.event_ids()) == sorted([first, second])
    for request in receiver.requests:
        verify_signature(secret, request.headers["X-MeetingServe-Signature"], request.body)
        assert request.headers["X-MeetingServe-Delivery-Attempt"] == "2"
    assert {(r.status, r.attempts) for r in delivery_rows(db, hook_id)} == {("delivered", 2)}


async def test_a_crashed_loops_claim_is_sent_by_another_after_its_lease(
    db: Database, receiver: WebhookReceiver
) -> None:
    meeting_id, _, _ = setup_hook(db, receiver.url)
    event_id = enqueue(db, meeting_id)
    with db.session() as s:  # a loop that claimed the row and died before sending
        assert len(claim_due(s, "crashed-loop", lease_s=60, limit=10)) == 1
    dispatcher = WebhookDispatcher(db, fast_settings())
    try:
        assert await dispatcher.deliver_due() == 0  # leased: not sent behind the owner's back
        with db.session() as s:  # the lease runs out (time passes without the crashed loop)
            s.execute(update(WebhookDelivery).values(lease_until=utcnow() - timedelta(seconds=1)))
        assert await dispatcher.deliver_due() == 1
    finally:
        await dispatcher.stop()
    assert receiver.event_ids() == [event_id]


async def test_two_loops_never_send_the_same_row(db: Database, receiver: WebhookReceiver) -> None:
    meeting_id, _, _ = setup_hook(db, receiver.url)
    events = [enqueue(db, meeting_id) for _ in range(12)]
    loops = [WebhookDispatcher(db, fast_settings()) for _ in range(3)]
    try:
        counts = await asyncio.gather(*(loop.deliver_due() for loop in loops))
        counts += await asyncio.gather(*(loop.deliver_due() for loop in loops))
    finally:
        await asyncio.gather(*(loop.stop() for loop in loops))
    assert sum(counts) == 12
    assert sorted(receiver.event_ids()) == sorted(events)


async def test_error_answers_are_retried_and_given_up_after_the_window(
    db: Database, receiver: WebhookReceiver
) -> None:
    receiver.status_code = 500
    meeting_id, hook_id, _ = setup_hook(db, receiver.url)
    enqueue(db, meeting_id)
    dispatcher = WebhookDispatcher(db, fast_settings(webhook_retry_window_s=1.5))
    try:
        for _ in range(40):
            await dispatcher.deliver_due()
            if delivery_rows(db, hook_id)[0].status != "pending":
                break
            await asyncio.sleep(0.1)
    finally:
        await dispatcher.stop()
    [row] = delivery_rows(db, hook_id)
    assert row.status == "failed"
    assert row.last_status_code == 500
    assert row.last_error == "HTTP 500"
    assert 2 <= row.attempts == len(receiver.requests) <= 6  # 0.2 s doubling to 0.4 s in 1.5 s


async def test_redirects_are_not_followed(db: Database, receiver: WebhookReceiver) -> None:
    receiver.status_code = 302
    meeting_id, hook_id, _ = setup_hook(db, receiver.url)
    enqueue(db, meeting_id)
    dispatcher = WebhookDispatcher(db, fast_settings())
    try:
        await dispatcher.deliver_due()
    finally:
        await dispatcher.stop()
    [row] = delivery_rows(db, hook_id)
    assert (row.status, row.last_status_code, len(receiver.requests)) == ("pending", 302, 1)


async def test_internal_address_is_not_called_without_the_operator_setting(
    db: Database, receiver: WebhookReceiver
) -> None:
    meeting_id, hook_id, _ = setup_hook(db, receiver.url)
    enqueue(db, meeting_id)
    dispatcher = WebhookDispatcher(db, fast_settings(webhook_allowed_networks=[]))
    try:
        await dispatcher.deliver_due()
    finally:
        await dispatcher.stop()
    [row] = delivery_rows(db, hook_id)
    assert receiver.requests == []
    assert row.last_error is not None and row.last_error.startswith("blocked: ")
    assert row.status == "pending"


def test_only_subscribed_hooks_of_entitled_users_get_events(db: Database) -> None:
    with db.session() as s:
        owner = create_user(s, email="o@example.com", name="O", password_hash="h")
        editor = create_user(s, email="e@example.com", name="E", password_hash="h")
        meeting = create_meeting(s, owner_id=owner.id, title="M")
        other = create_meeting(s, owner_id=editor.id, title="Elsewhere")
        share_meeting(s, meeting.id, editor.id, "editor")
        account = create_webhook(s, owner.id, "http://127.0.0.1:1/a", ["completed"], None)
        summary_only = create_webhook(s, owner.id, "http://127.0.0.1:1/s", ["summary"], meeting.id)
        editors = create_webhook(s, editor.id, "http://127.0.0.1:1/e", ["completed"], meeting.id)
        editor_account = create_webhook(s, editor.id, "http://127.0.0.1:1/x", ["completed"], None)
        assert enqueue_event(s, meeting.id, "completed", {}) is not None
        share_meeting(s, meeting.id, editor.id, "viewer")  # demoted: their hook goes quiet
        assert enqueue_event(s, meeting.id, "completed", {}) is not None
        assert enqueue_event(s, other.id, "failed", {}) is None  # nobody subscribed to failed
        hooks = {
            h.id: len(list_deliveries(s, h.id))
            for h in (account, summary_only, editors, editor_account)
        }
    assert hooks == {account.id: 2, summary_only.id: 0, editors.id: 1, editor_account.id: 0}
