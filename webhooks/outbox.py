"""Webhook registrations and their delivery rows (the outbox) in the database.

``enqueue_event`` runs inside the transaction that records a job's outcome or a summary, so an
event exists exactly when its outcome does: a restart can delay a delivery, never drop it.
The delivery loop claims due rows with a lease (``claim_due``) and records each attempt
(``record_attempt``) only while it still holds that lease.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from persistence.models import (
    Meeting,
    Membership,
    Webhook,
    WebhookDelivery,
    WebhookEventType,
    utcnow,
)
from webhooks.schedule import RetryPolicy
from webhooks.signing import new_secret

EVENT_TYPES: tuple[str, ...] = get_args(WebhookEventType)
# Roles whose meeting-level webhooks fire; a viewer cannot register one, and a member who
# is demoted or removed stops receiving events.
HOOK_ROLES = ("owner", "editor")
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class ClaimedDelivery:
    """What the loop needs to send one delivery, detached from the session."""

    id: int
    webhook_id: str
    url: str
    secret: str
    event_id: str
    event_type: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime


def create_webhook(
    session: Session, user_id: str, url: str, events: Sequence[str], meeting_id: str | None
) -> Webhook:
    hook = Webhook(
        user_id=user_id, meeting_id=meeting_id, url=url, secret=new_secret(), events=list(events)
    )
    session.add(hook)
    session.flush()
    return hook


def count_webhooks(session: Session, user_id: str) -> int:
    return int(session.scalar(select(func.count()).where(Webhook.user_id == user_id)) or 0)


def list_webhooks(session: Session, user_id: str) -> list[Webhook]:
    rows = session.scalars(
        select(Webhook).where(Webhook.user_id == user_id).order_by(Webhook.created_at, Webhook.id)
    )
    return list(rows)


def get_webhook(session: Session, user_id: str, webhook_id: str) -> Webhook | None:
    """The caller's own webhook; someone else's is as absent as a missing one."""
    hook = session.get(Webhook, webhook_id)
    return hook if hook is not None and hook.user_id == user_id else None


def delete_webhook(session: Session, webhook: Webhook) -> None:
    session.delete(webhook)
    session.flush()


def list_deliveries(session: Session, webhook_id: str, limit: int = 100) -> list[WebhookDelivery]:
    rows = session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list(rows)


def meeting_summary(meeting: Meeting) -> dict[str, Any]:
    return {
        "id": meeting.id,
        "title": meeting.title,
        "status": meeting.status,
        "duration": meeting.duration,
    }


def subscribed_webhooks(session: Session, meeting: Meeting, event_type: str) -> list[Webhook]:
    """Active hooks for this event: the meeting's own (from owners/editors still holding
    that role) and the account-wide hooks of the meeting's owner."""
    meeting_hooks = (
        select(Webhook)
        .join(Membership, Membership.user_id == Webhook.user_id)
        .where(
            Webhook.meeting_id == meeting.id,
            Membership.meeting_id == meeting.id,
            Membership.role.in_(HOOK_ROLES),
        )
    )
    account_hooks = select(Webhook).where(
        Webhook.meeting_id.is_(None), Webhook.user_id == meeting.owner_id
    )
    hooks = [*session.scalars(meeting_hooks), *session.scalars(account_hooks)]
    return [h for h in hooks if h.active and event_type in h.events]


def enqueue_event(
    session: Session, meeting_id: str, event_type: str, data: dict[str, Any]
) -> str | None:
    """Queue ``event_type`` for every subscribed webhook; returns the event id (None: no
    subscriber). Call inside the transaction that records what the event reports."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        return None
    hooks = subscribed_webhooks(session, meeting, event_type)
    if not hooks:
        return None
    event_id = f"evt_{uuid.uuid4().hex}"
    now = utcnow()
    payload = {
        "id": event_id,
        "type": event_type,
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "meeting_id": meeting.id,
        "data": {"meeting": meeting_summary(meeting), **data},
    }
    for hook in hooks:
        session.add(
            WebhookDelivery(
                webhook_id=hook.id,
                event_id=event_id,
                event_type=event_type,
                meeting_id=meeting.id,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
        )
    session.flush()
    return event_id


def claim_due(
    session: Session, owner: str, lease_s: float, limit: int, now: datetime | None = None
) -> list[ClaimedDelivery]:
    """Lease up to ``limit`` due deliveries to ``owner``.

    Each row is taken by a conditional UPDATE that only matches an unleased (or expired) row,
    so of two loops racing for it exactly one sees ``rowcount == 1``.
    """
    now = now or utcnow()
    free = or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now)
    due = session.scalars(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, free)
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    ).all()
    claimed: list[ClaimedDelivery] = []
    for delivery_id in due:
        taken = session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id, WebhookDelivery.status == "pending", free)
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_s))
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(_claimed(session, delivery_id))
    return claimed


def _claimed(session: Session, delivery_id: int) -> ClaimedDelivery:
    delivery, hook = session.execute(
        select(WebhookDelivery, Webhook)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.id == delivery_id)
    ).one()
    return ClaimedDelivery(
        id=delivery.id,
        webhook_id=hook.id,
        url=hook.url,
        secret=hook.secret,
        event_id=delivery.event_id,
        event_type=delivery.event_type,
        payload=delivery.payload,
        attempts=delivery.attempts,
        created_at=delivery.created_at,
    )


def record_attempt(
    session: Session,
    delivery: ClaimedDelivery,
    owner: str,
    policy: RetryPolicy,
    status_code: int | None,
    error: str | None,
    now: datetime | None = None,
) -> bool:
    """Store one attempt's outcome and release the lease; False when the lease was lost."""
    now = now or utcnow()
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_attempt_at": now,
        "last_status_code": status_code,
        "last_error": error[:MAX_ERROR_CHARS] if error else None,
        "lease_owner": None,
        "lease_until": None,
    }
    if error is None:
        values.update(status="delivered", delivered_at=now)
    else:
        retry_at = policy.next_attempt(delivery.created_at, attempts, now)
        values.update(status="pending", next_attempt_at=retry_at)
        if retry_at is None:
            values.update(status="failed", next_attempt_at=now)
    result = session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery.id, WebhookDelivery.lease_owner == owner)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
