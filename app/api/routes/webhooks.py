"""Webhooks: register, list, delete, and read the delivery log (the registering user only).

A meeting webhook needs owner or editor rights on the meeting (404 when the caller cannot see
it, 403 for a viewer); an account webhook (no ``meeting_id``) fires for every meeting the
caller owns. The URL passes the SSRF guard at registration and again at every delivery.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Response, status

from app.api.deps import MEETING_NOT_FOUND, CurrentUser, SessionDep, SettingsDep
from app.schemas import WebhookCreate, WebhookCreated, WebhookDeliveryPublic, WebhookPublic
from persistence import meeting_role
from persistence.models import Webhook
from webhooks.outbox import (
    HOOK_ROLES,
    count_webhooks,
    create_webhook,
    delete_webhook,
    get_webhook,
    list_deliveries,
    list_webhooks,
)
from webhooks.ssrf import BlockedUrlError, check_target, parse_networks

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
WebhookId = Annotated[str, Path(min_length=1, max_length=64)]
WEBHOOK_NOT_FOUND = "Webhook not found"


def check_meeting_rights(session: SessionDep, user_id: str, meeting_id: str) -> None:
    role = meeting_role(session, user_id, meeting_id)
    if role is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=MEETING_NOT_FOUND)
    if role not in HOOK_ROLES:
        raise HTTPException(
            status_code=status.HTTP_403_FORBIDDEN,
            detail="Only the meeting's owner or an editor can add a webhook",
        )


@router.post("", status_code=status.HTTP_201_CREATED)
def create_webhook_route(
    body: WebhookCreate, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    if body.meeting_id is not None:
        check_meeting_rights(session, user.id, body.meeting_id)
    if count_webhooks(session, user.id) >= settings.webhook_max_per_user:
        raise HTTPException(
            status_code=status.HTTP_409_CONFLICT,
            detail=f"At most {settings.webhook_max_per_user} webhooks per user; delete one first",
        )
    try:
        check_target(body.url, parse_networks(settings.webhook_allowed_networks))
    except BlockedUrlError as e:
        raise HTTPException(status_code=422, detail=f"Webhook URL refused: {e.reason}") from e
    hook = create_webhook(session, user.id, body.url, sorted(set(body.events)), body.meeting_id)
    session.commit()
    logger.info("user %s registered webhook %s (meeting %s)", user.id, hook.id, hook.meeting_id)
    return WebhookCreated.model_validate(hook)


@router.get("")
def list_webhooks_route(user: CurrentUser, session: SessionDep) -> list[WebhookPublic]:
    return [WebhookPublic.model_validate(h) for h in list_webhooks(session, user.id)]


def own_webhook(session: SessionDep, user_id: str, webhook_id: str) -> Webhook:
    hook = get_webhook(session, user_id, webhook_id)
    if hook is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=WEBHOOK_NOT_FOUND)
    return hook


@router.get("/{webhook_id}")
def read_webhook(webhook_id: WebhookId, user: CurrentUser, session: SessionDep) -> WebhookPublic:
    return WebhookPublic.model_validate(own_webhook(session, user.id, webhook_id))


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_webhook_route(webhook_id: WebhookId, user: CurrentUser, session: SessionDep) -> Response:
    delete_webhook(session, own_webhook(session, user.id, webhook_id))
    session.commit()
    logger.info("user %s deleted webhook %s", user.id, webhook_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries")
def list_deliveries_route(
    webhook_id: WebhookId,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[WebhookDeliveryPublic]:
    """The delivery log, newest first: status, attempts, last answer or error."""
    hook = own_webhook(session, user.id, webhook_id)
    deliveries = list_deliveries(session, hook.id, limit)
    return [WebhookDeliveryPublic.model_validate(d) for d in deliveries]
