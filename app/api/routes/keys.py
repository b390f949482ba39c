"""API keys: create (the full key is shown once), list (never the secret), revoke.

Keys are scoped to their creator: they act as that user everywhere a JWT does. Creating a key
needs a login session (a JWT), so a leaked key cannot mint more keys; a key may list its
owner's keys and revoke them (itself included).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.api.deps import ApiKeysDep, CurrentUser, SessionDep, SettingsDep, TokenDep
from app.apikeys import generate_api_key, looks_like_api_key
from persistence.api_keys import (
    count_active_api_keys,
    create_api_key,
    list_api_keys,
    revoke_api_key,
)

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/keys", tags=["api keys"])

KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiKeyCreate(BaseModel):
    name: KeyName
    # Requests per rate window for this key; capped at MEETING_API_KEY_RATE_LIMIT.
    rate_limit: int | None = Field(default=None, gt=0)


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    usage_count: int
    rate_limit: int | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="The full key. Shown only in this response; store it now.")


@router.post("", status_code=status.HTTP_201_CREATED)
def create_key(
    body: ApiKeyCreate,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenDep,
) -> ApiKeyCreated:
    if token is not None and looks_like_api_key(token):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Log in with a password to create API keys")
    if count_active_api_keys(session, user.id) >= settings.max_api_keys_per_user:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            f"At most {settings.max_api_keys_per_user} active API keys; revoke one first",
        )
    rate_limit = min(body.rate_limit, settings.api_key_rate_limit) if body.rate_limit else None
    new = generate_api_key()
    row = create_api_key(
        session,
        user_id=user.id,
        name=body.name,
        prefix=new.prefix,
        secret_hash=new.secret_hash,
        rate_limit=rate_limit,
    )
    session.commit()
    logger.info("user %s created api key %s (prefix %s)", user.id, row.id, row.prefix)
    return ApiKeyCreated(**ApiKeyPublic.model_validate(row).model_dump(), key=new.plaintext)


@router.get("")
def list_keys(user: CurrentUser, session: SessionDep, api_keys: ApiKeysDep) -> list[ApiKeyPublic]:
    """Usage counts include this replica's pending ones (flushed first); other replicas'
    arrive within ``MEETING_API_KEY_USAGE_FLUSH_S``."""
    if api_keys is not None:
        api_keys.flush(force=True)
    return [ApiKeyPublic.model_validate(row) for row in list_api_keys(session, user.id)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_key(key_id: str, user: CurrentUser, session: SessionDep) -> Response:
    """Revoke at once: the next request with the key answers 401. 404 for others' keys."""
    if revoke_api_key(session, user.id, key_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "API key not found")
    session.commit()
    logger.info("user %s revoked api key %s", user.id, key_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
